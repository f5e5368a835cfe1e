import type { KeyUpdate } from '../core/runtime/api.js';

type Listener = (u: KeyUpdate) => void;

/**
 * Fans key updates (engine batches, stored writes) out to subscribers of a (group, key).
 * One listener per source of updates; subscribers are looked up by key, so the cost per update
 * is a map lookup whatever the number of connections.
 */
export class SubscriptionHub {
  private readonly subs = new Map<string, Set<Listener>>();

  /** Feeds updates from an update source (`engine.onUpdate`, `stored.onUpdate`). */
  attach(register: (l: Listener) => () => void): () => void {
    return register((u) => this.publish(u));
  }

  publish(u: KeyUpdate): void {
    const set = this.subs.get(`${u.group}\0${u.key}`);
    if (set === undefined) return;
    for (const l of set) l(u);
  }

  subscribe(group: string, key: string, l: Listener): () => void {
    const k = `${group}\0${key}`;
    let set = this.subs.get(k);
    if (set === undefined) {
      set = new Set();
      this.subs.set(k, set);
    }
    set.add(l);
    return () => {
      const s = this.subs.get(k);
      if (s === undefined) return;
      s.delete(l);
      if (s.size === 0) this.subs.delete(k);
    };
  }

  get size(): number {
    return this.subs.size;
  }
}
