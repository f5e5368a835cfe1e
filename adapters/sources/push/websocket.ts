import { definePlugin, type Plugin } from '../../../core/contracts/plugin.js';
import { pushSourcePlugin } from './plugin.js';

/** `type: websocket` — events pushed over the daemon's WebSocket (`/v1/ws`, op `ingest`). */
const plugin: Plugin = definePlugin(pushSourcePlugin('websocket'));
export default plugin;
