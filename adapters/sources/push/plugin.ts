import { definePlugin } from '../../../core/contracts/plugin.js';
import type { SourcePluginDefinition } from '../../../core/contracts/plugin.js';
import { FenestraError } from '../../../core/errors.js';
import { PushSource } from './push-source.js';
import { PUSH_OPTIONS_SCHEMA, pushOptions } from './options.js';

/** Builds the push-source plugin under an alias (`http`, `websocket`): one implementation, two names. */
export function pushSourcePlugin(name: 'http' | 'websocket'): SourcePluginDefinition<Record<string, unknown>> {
  return {
    name,
    kind: 'source',
    engine: '>=0.1.0',
    description: `Events pushed by clients through the daemon (${name === 'http' ? 'POST /v1/ingest/:source' : 'WebSocket /v1/ws'}), kept in a write-ahead log with group commit; acknowledged when durable.`,
    capabilities: { exactlyOnce: true, push: true },
    configSchema: PUSH_OPTIONS_SCHEMA,
    create(config, ctx) {
      if (ctx.source === undefined) throw new FenestraError('PLUGIN_KIND', `${name} source created without a source spec`);
      return new PushSource(ctx.source, pushOptions(config));
    },
  };
}

export { definePlugin };
