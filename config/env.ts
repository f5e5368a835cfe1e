import { parse as parseYamlScalar } from 'yaml';
import type { ConfigIssue } from './issues.js';
import { joinPath } from './issues.js';

const REF = /\$\$\{|\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Environment variables as given to the loader (`process.env` by default). */
export type Env = Readonly<Record<string, string | undefined>>;

function substituteString(text: string, env: Env, path: string, issues: ConfigIssue[]): string {
  return text.replace(REF, (whole: string, inner: string | undefined) => {
    if (whole === '$${') return '${';
    const body = inner ?? '';
    const sep = body.indexOf(':-');
    const name = sep < 0 ? body : body.slice(0, sep);
    const fallback = sep < 0 ? undefined : body.slice(sep + 2);
    if (!NAME.test(name)) {
      issues.push({ path, code: 'CONFIG_INVALID', message: `invalid reference "${whole}": write \${NAME} or \${NAME:-default} (write $\${ for a literal \${)` });
      return whole;
    }
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    if (value === '') return '';
    issues.push({ path, code: 'CONFIG_ENV_MISSING', message: `environment variable "${name}" is not set; set it, or give a default with \${${name}:-value}` });
    return whole;
  });
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string value of a parsed config (keys are left
 * alone); `$${` stands for a literal `${`. A value that is exactly one reference takes the type
 * the text has in YAML (`port: ${PORT}` with PORT=8080 is the number 8080). A variable that is
 * not set and has no default is an issue (code CONFIG_ENV_MISSING) at the value's path.
 */
export function substituteEnv(value: unknown, env: Env, issues: ConfigIssue[], path = ''): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    const before = issues.length;
    const out = substituteString(value, env, path, issues);
    if (issues.length === before && /^\$\{[^}]*\}$/.test(value)) {
      try {
        const typed: unknown = parseYamlScalar(out);
        if (typeof typed === 'number' || typeof typed === 'boolean') return typed;
      } catch {
        // not a YAML scalar: keep the text
      }
    }
    return out;
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, issues, joinPath(path, i)));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, env, issues, joinPath(path, k));
    return out;
  }
  return value;
}
