import type { EntitySpec, FieldSpec, SourceSpec } from '../core/model.js';
import type { IssueSink } from './issues.js';
import { joinPath } from './issues.js';
import { durationAt, entriesOf, FIELD_TYPES, fieldsOf, isObject, listNames } from './values.js';

/** Keys of a source block the engine owns; every other key is the adapter's own option. */
export const ENGINE_SOURCE_KEYS: ReadonlySet<string> = new Set([
  'type', 'entity', 'keyField', 'eventTime', 'schema', 'allowedLateness', 'exactlyOnce', 'description',
]);

const KEY_TYPES = new Set(['string', 'int', 'long']);
const TIME_TYPES = new Set(['timestamp', 'long']);

export function compileEntities(raw: unknown): Map<string, EntitySpec> {
  const out = new Map<string, EntitySpec>();
  for (const [name, e] of entriesOf(raw)) {
    if (isObject(e) && typeof e.key === 'string') out.set(name, { name, key: e.key });
  }
  return out;
}

function fieldList(fields: readonly FieldSpec[]): string {
  return listNames(fields.map((f) => f.name));
}

/** Checks and compiles `sources:` (entity, key field, event-time field, lateness, adapter options). */
export function compileSources(raw: unknown, entities: ReadonlyMap<string, EntitySpec>, sink: IssueSink): Map<string, SourceSpec> {
  const out = new Map<string, SourceSpec>();
  for (const [name, s] of entriesOf(raw)) {
    if (!isObject(s)) continue;
    const path = joinPath('sources', name);
    const fields = fieldsOf(s.schema);
    const entityName = typeof s.entity === 'string' ? s.entity : '';
    const entity = entities.get(entityName);
    if (entity === undefined && entityName !== '') {
      sink.add(joinPath(path, 'entity'), `unknown entity "${entityName}" (entities: ${listNames(entities.keys())}); declare it under entities:`);
    }
    const keyField = typeof s.keyField === 'string' ? s.keyField : entity?.key ?? '';
    if (keyField !== '' && isObject(s.schema)) {
      const f = fields.find((x) => x.name === keyField);
      const keyPath = typeof s.keyField === 'string' ? joinPath(path, 'keyField') : joinPath(path, 'schema');
      if (f === undefined) {
        sink.add(keyPath, `entity key field "${keyField}"${entity && typeof s.keyField !== 'string' ? ` of entity "${entity.name}"` : ''} is missing from the schema of source "${name}" (fields: ${fieldList(fields)}); add it to schema${typeof s.keyField === 'string' ? ' or fix keyField' : ', or set keyField'}`);
      } else if (FIELD_TYPES.has(f.type) && !KEY_TYPES.has(f.type)) {
        sink.add(joinPath(joinPath(path, 'schema'), keyField), `entity key field "${keyField}" must be string, int or long (it is ${f.type})`);
      } else if (f.optional) {
        sink.add(joinPath(joinPath(path, 'schema'), keyField), `entity key field "${keyField}" cannot be optional: every event needs a key`);
      }
    }
    const timeField = isObject(s.eventTime) && typeof s.eventTime.field === 'string' ? s.eventTime.field : '';
    if (timeField !== '' && isObject(s.schema)) {
      const f = fields.find((x) => x.name === timeField);
      const timePath = joinPath(joinPath(path, 'eventTime'), 'field');
      if (f === undefined) {
        sink.add(timePath, `unknown field "${timeField}" in source "${name}" (fields: ${fieldList(fields)}); the event-time field must be in schema`);
      } else if (FIELD_TYPES.has(f.type) && !TIME_TYPES.has(f.type)) {
        sink.add(timePath, `event-time field "${timeField}" must be of type timestamp or long (epoch ms), not ${f.type}`);
      } else if (f.optional) {
        sink.add(timePath, `event-time field "${timeField}" cannot be optional: every event needs a time`);
      }
    }
    const allowedLateness = durationAt(s.allowedLateness, joinPath(path, 'allowedLateness'), sink, 0);
    const options: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s)) if (!ENGINE_SOURCE_KEYS.has(k)) options[k] = v;
    out.set(name, {
      name,
      type: typeof s.type === 'string' ? s.type : '',
      entity: entityName,
      keyField,
      eventTimeField: timeField,
      fields,
      allowedLateness,
      exactlyOnce: s.exactlyOnce !== false,
      options,
    });
  }
  return out;
}
