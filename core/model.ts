/**
 * The compiled, validated model of a Fenestra configuration. `config/` turns YAML into
 * this (resolving durations to milliseconds, defaults, and feature-service references);
 * everything in `core/` works from these types only, never from raw YAML.
 * All durations and instants are milliseconds (epoch milliseconds for instants).
 */

export type FieldType = 'string' | 'int' | 'long' | 'double' | 'boolean' | 'timestamp';

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  readonly optional: boolean;
}

export interface EntitySpec {
  readonly name: string;
  /** The key field's name in events (`cc_num`). */
  readonly key: string;
}

export interface SourceSpec {
  readonly name: string;
  /** Built-in alias (`http`, `websocket`, `file`, `kafka`, `kinesis`) or a plugin package/path. */
  readonly type: string;
  readonly entity: string;
  /** Field holding the entity key; defaults to the entity's `key`. */
  readonly keyField: string;
  readonly eventTimeField: string;
  readonly fields: readonly FieldSpec[];
  /** Events older than (newest event time of the same entity − allowedLateness) are dead-lettered. */
  readonly allowedLateness: number;
  /** Require exactly-once from the adapter (default true); refused at load if it cannot give it. */
  readonly exactlyOnce: boolean;
  /** The adapter's own options (everything in the YAML block that is not listed above). */
  readonly options: Readonly<Record<string, unknown>>;
}

export type AggKind =
  | 'count' | 'sum' | 'avg' | 'min' | 'max' | 'first' | 'last' | 'stddev' | 'variance' | 'count_distinct';

export const AGG_KINDS: readonly AggKind[] = [
  'count', 'sum', 'avg', 'min', 'max', 'first', 'last', 'stddev', 'variance', 'count_distinct',
];

/** Aggregations that need a numeric field. `count` needs no field; the rest take any type. */
export const NUMERIC_AGGS: ReadonlySet<AggKind> = new Set(['sum', 'avg', 'min', 'max', 'stddev', 'variance']);

/**
 * sliding: as of t, events with t − size < event_time <= t.
 * tumbling: as of t, events with floor(t / size)·size <= event_time <= t (the bucket holding t, so far).
 * lifetime: as of t, every event with event_time <= t.
 */
export type WindowSpec =
  | { readonly kind: 'sliding'; readonly size: number }
  | { readonly kind: 'tumbling'; readonly size: number }
  | { readonly kind: 'lifetime' };

export interface AggFeatureSpec {
  readonly name: string;
  readonly agg: AggKind;
  /** Source field aggregated; absent only for `count`. */
  readonly field?: string;
  readonly window: WindowSpec;
  /**
   * Tile width in ms for tiled windows; 0 means exact (raw events kept for the window).
   * Sliding windows up to 1 h are exact unless `precision` is set; longer ones default to the largest
   * of 1m, 5m, 15m, 1h, 1d that is at most window/100 (7d → 1h), so the error stays under 1% of the window.
   * Tumbling windows need a precision that divides their size, and are then exact.
   */
  readonly precision: number;
  readonly description?: string;
}

export type NullPolicy = 'null' | 'zero';
export type DivZeroPolicy = 'null' | 'zero' | 'infinity';

export interface DerivedFeatureSpec {
  readonly name: string;
  /** A CEL expression over the group's features and `request.*` fields. */
  readonly expr: string;
  /** What a null input makes of the result (default `null`: the result is null). */
  readonly onNull: NullPolicy;
  /** What a division by zero yields (default `null`). */
  readonly onDivZero: DivZeroPolicy;
  /** `request.*` fields the expression reads (found at compile time). */
  readonly requestFields: readonly string[];
  readonly description?: string;
}

export interface AggregatedGroupSpec {
  readonly kind: 'aggregated';
  readonly name: string;
  readonly entity: string;
  readonly source: string;
  readonly features: readonly AggFeatureSpec[];
  readonly derived: readonly DerivedFeatureSpec[];
  /**
   * Whether a read as of t includes events whose event time equals t exactly (default true:
   * windows are `(t − W, t]`). With false they are `(t − W, t)`: a transaction scored at its own
   * timestamp does not see itself. Training sets use the same flag.
   */
  readonly includeCurrent: boolean;
  readonly description?: string;
}

export interface StoredGroupSpec {
  readonly kind: 'stored';
  readonly name: string;
  readonly entity: string;
  /** Name of the record's event-time feature (`event_time`). */
  readonly eventTimeField: string;
  /** Record time-to-live in ms after its event time; 0 = never expires. */
  readonly ttl: number;
  readonly fields: readonly FieldSpec[];
  readonly derived: readonly DerivedFeatureSpec[];
  readonly description?: string;
}

export type GroupSpec = AggregatedGroupSpec | StoredGroupSpec;

/** A feature reference resolved to its group: `cc_agg:avg_amt_last_10m`. */
export interface FeatureRef {
  readonly group: string;
  readonly feature: string;
}

export interface FeatureServiceSpec {
  readonly name: string;
  readonly features: readonly FeatureRef[];
}

export interface PluginRefSpec {
  /** Built-in alias or plugin package/path. */
  readonly type: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** Where the daemon answers feature reads from (`online.reads`). */
export type OnlineReads = 'store' | 'engine';

/** The `online:` block: the store plugin and its options, plus the engine-owned `reads`. */
export interface OnlineSpec extends PluginRefSpec {
  /**
   * `store`: reads fetch the entities' state from the online store and finalize windows at the read's
   * time (stateless instances answer alike); `engine`: from this process's memory. Absent: `store` for
   * an external store, `engine` for `embedded` (config/compile-online.ts `onlineReads`).
   */
  readonly reads?: OnlineReads;
}

/** How to reach an S3 (or S3-compatible) endpoint: `state.s3`. */
export interface S3ConnectionSpec {
  /** e.g. `http://127.0.0.1:4569` for an S3-compatible server; default: the region's AWS endpoint. */
  readonly endpoint?: string;
  readonly region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which S3-compatible servers need. Default true. */
  readonly forcePathStyle?: boolean;
  /** Static credentials; default: the AWS SDK's provider chain (environment, profile, instance role). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface EngineSpec {
  /** Absolute path of the config file's directory (plugins and relative paths resolve from it). */
  readonly baseDir: string;
  readonly server: { readonly host: string; readonly port: number; readonly bodyLimit: number };
  readonly state: {
    readonly dir: string;
    readonly checkpointInterval: number;
    /** Interval at which dirty keys are flushed to an external online store. */
    readonly flushInterval: number;
    /**
     * Where the instances of one deployment share state — a directory (absolute) or an
     * `s3://bucket/prefix` URL — or undefined: with it, Kafka partitions move between instances with
     * their state, and this instance's checkpoints live in `<shared>/instances/<instanceId>/checkpoints`.
     * Local state (dead letters, write-ahead logs) stays in `dir`.
     */
    readonly shared?: string;
    /** How to reach S3 when `shared` is an `s3://` URL (absent: the AWS SDK's defaults). */
    readonly s3?: S3ConnectionSpec;
    /** This instance's id among those sharing `shared` (stable across restarts). */
    readonly instanceId: string;
  };
  readonly entities: ReadonlyMap<string, EntitySpec>;
  readonly sources: ReadonlyMap<string, SourceSpec>;
  readonly groups: ReadonlyMap<string, GroupSpec>;
  readonly services: ReadonlyMap<string, FeatureServiceSpec>;
  readonly online: OnlineSpec;
  readonly offline: PluginRefSpec;
  readonly deadLetters: { readonly path: string };
}
