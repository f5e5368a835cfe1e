/** The Fenestra versions the built-in online stores work with (they ship with the engine). */
export const ENGINE_VERSION_RANGE = '^0.1.0';
