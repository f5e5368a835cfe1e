import { dirname, resolve } from 'node:path';
import { FenestraError } from '../core/errors.js';
import type { EngineSpec } from '../core/model.js';
import { compileConfig } from './compile.js';
import type { Env } from './env.js';
import { substituteEnv } from './env.js';
import type { ConfigIssue } from './issues.js';
import { formatIssues, IssueSink } from './issues.js';
import { resolvePlugins } from './plugins.js';
import { parseYaml, readConfigText, withLines } from './read.js';
import { validateAgainstSchema } from './schema-validate.js';

export type { ConfigIssue } from './issues.js';

/** Result of checking a config: the compiled spec when there is no issue, and every issue found. */
export interface ConfigCheck {
  readonly spec?: EngineSpec;
  readonly issues: readonly ConfigIssue[];
}

export interface CheckOptions {
  /** Also resolve and check the adapters' plugins (module found, brand, engine range, kind, exactly-once, own options). Default false. */
  readonly plugins?: boolean;
}

/**
 * Checks config text as if it were the file `file` (relative paths and plugins resolve from
 * `dirname(file)`): YAML, `${ENV}` substitution, the JSON Schema, then the semantic checks, and
 * compiles it. Every issue is collected; none stops the others.
 */
export async function checkConfigText(text: string, file: string, env: Env = process.env, options: CheckOptions = {}): Promise<ConfigCheck> {
  const issues: ConfigIssue[] = [];
  const parsed = parseYaml(text, issues);
  if (parsed === null) return { issues };
  const doc = substituteEnv(parsed.value, env, issues);
  const sink = new IssueSink();
  for (const i of issues) sink.early(i);
  validateAgainstSchema(doc, sink);
  const spec = compileConfig(doc, dirname(resolve(file)), sink);
  if (options.plugins === true) {
    const { issues: pluginIssues } = await resolvePlugins(spec, { skipSources: sourcesWithSchemaIssues(spec, sink) });
    for (const i of pluginIssues) sink.add(i.path, i.message, i.code);
  }
  const all = withLines(sink.issues, parsed);
  return all.length === 0 ? { spec, issues: [] } : { issues: all };
}

function sourcesWithSchemaIssues(spec: EngineSpec, sink: IssueSink): Set<string> {
  const out = new Set<string>();
  for (const name of spec.sources.keys()) if (sink.coveredBySchema(`sources.${name}.type`)) out.add(name);
  return out;
}

/** Reads and checks a config file; see `checkConfigText`. */
export async function checkConfig(path: string, env: Env = process.env, options: CheckOptions = {}): Promise<ConfigCheck> {
  const issues: ConfigIssue[] = [];
  const text = await readConfigText(path, issues);
  if (text === null) return { issues };
  return checkConfigText(text, path, env, options);
}

/**
 * Loads a config file into the compiled `EngineSpec`, or throws `FenestraError` with code
 * `CONFIG_INVALID` (or `CONFIG_NOT_FOUND`) whose `details` is the list of every `ConfigIssue`.
 * Plugins are not loaded here: call `resolvePlugins(spec)` (config/plugins.ts).
 */
export async function loadConfig(path: string, env: Env = process.env): Promise<EngineSpec> {
  const { spec, issues } = await checkConfig(path, env);
  if (spec !== undefined) return spec;
  const code = issues.some((i) => i.code === 'CONFIG_NOT_FOUND') ? 'CONFIG_NOT_FOUND' : 'CONFIG_INVALID';
  throw new FenestraError(code, `invalid config ${path}: ${issues.length} problem(s)\n${formatIssues(issues)}`, { details: issues });
}
