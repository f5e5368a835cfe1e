/**
 * The one table of Fenestra's stable error codes (fastify style). Every error a user, a
 * client or an adapter author can see carries one of these codes; the HTTP status for the
 * API is part of the table. Codes are never renamed or reused: add rows, do not edit them.
 * docs/API.md's "Error codes" table documents every row (code, HTTP status, message);
 * test/unit/docs/error-codes-documented.test.ts fails when a row is missing, differs, or is stale.
 */
export const ERROR_CODES = {
  // --- configuration -------------------------------------------------------------------
  CONFIG_INVALID: { status: 400, message: 'The configuration is invalid; every error is listed with its path.' },
  CONFIG_NOT_FOUND: { status: 400, message: 'The configuration file does not exist or cannot be read.' },
  CONFIG_YAML: { status: 400, message: 'The configuration file is not valid YAML.' },
  CONFIG_ENV_MISSING: { status: 400, message: 'A ${VAR} reference names an environment variable that is not set.' },
  // --- plugins -------------------------------------------------------------------------
  PLUGIN_NOT_FOUND: { status: 400, message: 'A plugin named by `type:` could not be resolved from the config file\'s directory.' },
  PLUGIN_INVALID: { status: 400, message: 'A module was found but its default export was not made by definePlugin().' },
  PLUGIN_ENGINE_RANGE: { status: 400, message: 'The plugin declares an engine version range that this Fenestra does not satisfy.' },
  PLUGIN_KIND: { status: 400, message: 'The plugin is of another kind than the place it is used (e.g. a source used as an online store).' },
  PLUGIN_NOT_EXACTLY_ONCE: { status: 400, message: 'The config asks for exactly-once from a plugin that does not declare it.' },
  // --- events --------------------------------------------------------------------------
  EVENT_MALFORMED: { status: 400, message: 'The event is not a JSON object (or not decodable in the source format).' },
  EVENT_FIELD_MISSING: { status: 400, message: 'A required field of the source schema is missing or null.' },
  EVENT_FIELD_TYPE: { status: 400, message: 'A field has a value of the wrong type for the source schema.' },
  EVENT_TIME_INVALID: { status: 400, message: 'The event-time field is neither epoch milliseconds nor ISO-8601.' },
  EVENT_LATE: { status: 400, message: 'The event is older than allowedLateness behind the newest event of its entity.' },
  // --- state and checkpoints -----------------------------------------------------------
  CHECKPOINT_CORRUPT: { status: 500, message: 'A checkpoint file fails its checksum or framing; it is refused, never half-loaded.' },
  CHECKPOINT_VERSION: { status: 500, message: 'A checkpoint was written in a format version this build cannot read.' },
  WAL_CORRUPT: { status: 500, message: 'A push source\'s write-ahead log is damaged before its last segment; it is refused, never half-replayed.' },
  CHECKPOINT_MISMATCH: { status: 500, message: 'A checkpoint was written for a different feature layout than the config describes.' },
  STATE_LOCKED: { status: 500, message: 'Another live process holds the state directory (its LOCK file); one engine per state directory.' },
  STATE_LEASED: { status: 500, message: 'Another live process holds the S3 checkpoint store\'s lease (its LEASE object keeps changing), or took it over from this one; one process per instance id.' },
  SPLIT_HANDOFF_FAILED: { status: 500, message: 'A split (Kafka partition) could not be taken over with its state: the previous owner\'s checkpoint does not hold it at the claimed epoch, or a newer claim exists.' },
  // --- HTTP API ------------------------------------------------------------------------
  BAD_REQUEST: { status: 400, message: 'The request is malformed (bad JSON, wrong types, missing parameters).' },
  INVALID_AS_OF: { status: 400, message: '`asOf` is neither epoch milliseconds nor ISO-8601.' },
  AS_OF_OUT_OF_RANGE: { status: 400, message: '`asOf` is older than the state retained for exact reads of this entity.' },
  UNKNOWN_GROUP: { status: 404, message: 'No feature group has this name.' },
  UNKNOWN_FEATURE: { status: 400, message: 'A requested feature does not exist in its group.' },
  UNKNOWN_SERVICE: { status: 400, message: 'No feature service has this name.' },
  UNKNOWN_SOURCE: { status: 404, message: 'No source with push ingestion has this name.' },
  NOT_STORED_GROUP: { status: 400, message: 'Records can be written only to stored feature groups.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body exceeds the configured limit.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The content type is not JSON or NDJSON.' },
  NOT_FOUND: { status: 404, message: 'No such route.' },
  UPGRADE_REQUIRED: { status: 426, message: 'The route is a WebSocket endpoint; open it with an Upgrade: websocket request.' },
  NOT_READY: { status: 503, message: 'The engine is still recovering or a dependency is down.' },
  STORE_UNAVAILABLE: { status: 503, message: 'The online store cannot be reached; the engine keeps its state and retries.' },
  SOURCE_UNAVAILABLE: { status: 503, message: 'A source cannot reach its broker or stream, or the topic/stream it names does not exist.' },
  INTERNAL: { status: 500, message: 'An unexpected internal error; it is logged with a request id.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a stable code and, where it applies, the path of the field at fault. */
export class FenestraError extends Error {
  readonly code: ErrorCode;
  readonly path: string | undefined;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, opts: { path?: string; details?: unknown; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'FenestraError';
    this.code = code;
    this.path = opts.path;
    this.details = opts.details;
  }
  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export function isFenestraError(e: unknown): e is FenestraError {
  return e instanceof FenestraError;
}
