// Public surface of the config package: load and check a config file, and resolve its plugins.
// See docs/CONFIG.md.
export { loadConfig, checkConfig, checkConfigText } from './load.js';
export type { ConfigCheck, CheckOptions } from './load.js';
export type { ConfigIssue } from './issues.js';
export { formatIssues } from './issues.js';
export { resolvePlugins, loadPlugins } from './plugins.js';
export type { ResolvedPlugins, ResolveOptions, PluginSpecInput } from './plugins.js';
export { configSchema } from './schema-validate.js';
export { CONFIG_DEFAULTS } from './compile.js';
export { defaultPrecision } from './windows.js';
export type { Env } from './env.js';
