// Stored feature groups: values written as they are (SageMaker PutRecord / BatchWriteRecord),
// versioned by record event time, with expiry. See StoredGroupState for ordering rules.
export type { StoredRecord, StoredWrite } from './record.js';
export { isStoredWrite } from './record.js';
export { StoredGroupState, nullValues, storedLayoutHash, type StoredRead } from './state.js';
export { encodeStored, decodeStored } from './codec.js';
export { parseRecord, type RecordFeature, type ParsedRecord, type RecordProblem } from './validate.js';
export { parseStoredTime, parseStoredValue, typedValues } from './values.js';
export { ttlDurationMs, expiryOf } from './ttl.js';
export { StoredWriter } from './writer.js';
export {
  storedHistoryLayout, storedHistoryRow, storedKeyField, storedTableName,
  STORED_DELETED, STORED_EVENT_TIME, STORED_EXPIRES_AT, STORED_WRITE_TIME,
  type StoredHistory, type StoredHistoryLayout,
} from './history.js';
