import { definePlugin, type Plugin, type SourcePluginDefinition } from '../../../core/contracts/plugin.js';
import { FenestraError } from '../../../core/errors.js';
import { KafkaSource } from './kafka-source.js';
import { KAFKA_OPTIONS_SCHEMA, kafkaOptions } from './options.js';

export { KafkaSource } from './kafka-source.js';
export { kafkaOptions, KAFKA_OPTIONS_SCHEMA, type KafkaSourceOptions } from './options.js';

const definition: SourcePluginDefinition<Record<string, unknown>> = {
  name: 'kafka',
  kind: 'source',
  engine: '>=0.1.0',
  description: 'Apache Kafka topic (JSON messages); partitions as splits, offsets in the engine checkpoint, consumer-group scale-out.',
  capabilities: { exactlyOnce: true },
  configSchema: KAFKA_OPTIONS_SCHEMA,
  create(config, ctx) {
    if (ctx.source === undefined) throw new FenestraError('PLUGIN_KIND', 'kafka source created without a source spec');
    return new KafkaSource(kafkaOptions(config), ctx.logger);
  },
};

/**
 * `type: kafka` — a Kafka topic read through a consumer group (kafkajs). Partitions are splits, positions
 * are offsets held by the engine's checkpoint; group commits happen after checkpoints, for lag monitoring.
 */
const kafkaPlugin: Plugin = definePlugin(definition);
export default kafkaPlugin;
