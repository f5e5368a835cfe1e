import type { EngineApi } from '../core/runtime/api.js';
import type { PushSource } from '../adapters/sources/push/push-source.js';
import type { StoredWriter } from '../core/stored/writer.js';
import type { DaemonMetrics } from './metrics.js';
import type { SubscriptionHub } from './subscriptions.js';

/** What every route group is built from. */
export interface DaemonContext {
  readonly engine: EngineApi;
  /** Push sources (`type: http` / `type: websocket`) by source name. */
  readonly pushSources: ReadonlyMap<string, PushSource>;
  /** Stored feature groups' writer (SageMaker PutRecord & co); absent when the config has none. */
  readonly stored: StoredWriter | null;
  readonly metrics: DaemonMetrics;
  readonly hub: SubscriptionHub;
  /** Longest `?wait=visible` wait before answering `visible: false`. */
  readonly visibleTimeoutMs: number;
}
