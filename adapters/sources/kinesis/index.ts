import { definePlugin, type Plugin, type SourcePluginDefinition } from '../../../core/contracts/plugin.js';
import { FenestraError } from '../../../core/errors.js';
import { KinesisSource } from './kinesis-source.js';
import { KINESIS_OPTIONS_SCHEMA, kinesisOptions } from './options.js';

export { KinesisSource } from './kinesis-source.js';
export { kinesisOptions, KINESIS_OPTIONS_SCHEMA, type KinesisSourceOptions } from './options.js';
export { backoffMs, isThrottling } from './backoff.js';

const definition: SourcePluginDefinition<Record<string, unknown>> = {
  name: 'kinesis',
  kind: 'source',
  engine: '>=0.1.0',
  description: 'Amazon Kinesis Data Stream (JSON records); shards as splits, sequence numbers in the engine checkpoint, resharding in parent-before-child order.',
  capabilities: { exactlyOnce: true },
  configSchema: KINESIS_OPTIONS_SCHEMA,
  create(config, ctx) {
    if (ctx.source === undefined) throw new FenestraError('PLUGIN_KIND', 'kinesis source created without a source spec');
    return new KinesisSource(kinesisOptions(config), ctx.logger);
  },
};

/** `type: kinesis` — a Kinesis stream read shard by shard (@aws-sdk/client-kinesis). */
const kinesisPlugin: Plugin = definePlugin(definition);
export default kinesisPlugin;
