import type { FeatureRef, FeatureServiceSpec, GroupSpec } from '../core/model.js';
import type { IssueSink } from './issues.js';
import { joinPath } from './issues.js';
import { entriesOf, isObject, listNames } from './values.js';
import { featureNamesOf } from './compile-groups.js';

/** Checks and compiles `featureServices:`, expanding `group:*` to every feature of the group. */
export function compileServices(raw: unknown, groups: ReadonlyMap<string, GroupSpec>, declared: ReadonlyMap<string, readonly string[]>, sink: IssueSink): Map<string, FeatureServiceSpec> {
  const out = new Map<string, FeatureServiceSpec>();
  for (const [name, s] of entriesOf(raw)) {
    const path = joinPath('featureServices', name);
    const list = Array.isArray(s) ? s : isObject(s) && Array.isArray(s.features) ? s.features : [];
    const listPath = Array.isArray(s) ? path : joinPath(path, 'features');
    const refs: FeatureRef[] = [];
    const seen = new Set<string>();
    list.forEach((item: unknown, i: number) => {
      const itemPath = joinPath(listPath, i);
      if (typeof item !== 'string') return;
      const m = /^([^:]+):(.+)$/.exec(item);
      if (!m) return;
      const [, groupName, feature] = m as unknown as [string, string, string];
      const group = groups.get(groupName);
      if (group === undefined) {
        sink.add(itemPath, `unknown feature group "${groupName}" in "${item}" (groups: ${listNames(groups.keys())})`);
        return;
      }
      const names = featureNamesOf(group);
      const all = [...new Set(declared.get(groupName) ?? names)];
      const picked = feature === '*' ? names : names.includes(feature) ? [feature] : null;
      if (picked === null) {
        if (!all.includes(feature)) sink.add(itemPath, `unknown feature "${feature}" in group "${groupName}" (features: ${listNames(all)})`);
        return;
      }
      for (const f of picked) {
        const key = `${groupName}:${f}`;
        if (!seen.has(key)) {
          seen.add(key);
          refs.push({ group: groupName, feature: f });
        }
      }
    });
    out.set(name, { name, features: refs });
  }
  return out;
}
