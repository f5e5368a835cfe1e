import { definePlugin, type Plugin } from '../../../core/contracts/plugin.js';
import { pushSourcePlugin } from './plugin.js';

/** `type: http` — events pushed with `POST /v1/ingest/:source`. */
const plugin: Plugin = definePlugin(pushSourcePlugin('http'));
export default plugin;
