import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Where a `type:` points: a loader for the module, or why it cannot be found. */
export type ModuleLocation =
  | { readonly found: true; readonly description: string; readonly load: () => Promise<unknown> }
  | { readonly found: false; readonly reason: string };

/** Whether `type:` is a path rather than an alias or package name. */
export function isPathSpecifier(type: string): boolean {
  return type.startsWith('./') || type.startsWith('../') || type === '.' || type === '..' || isAbsolute(type) || type.startsWith('file:');
}

function importFile(file: string): () => Promise<unknown> {
  return () => import(pathToFileURL(file).href);
}

type Exports = string | null | { readonly [k: string]: Exports } | readonly Exports[];

const CONDITIONS = ['import', 'node', 'default'];

function pickExport(entry: Exports | undefined): string | undefined {
  if (typeof entry === 'string') return entry;
  if (entry === null || entry === undefined) return undefined;
  if (Array.isArray(entry)) {
    for (const e of entry) {
      const p = pickExport(e as Exports);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  const obj = entry as Record<string, Exports>;
  for (const c of CONDITIONS) if (c in obj) {
    const p = pickExport(obj[c]);
    if (p !== undefined) return p;
  }
  return undefined;
}

/** The entry file of a package directory for `subpath` ('.' for the package itself), ESM conditions first. */
function packageEntry(dir: string, subpath: string): string | undefined {
  const pkgFile = join(dir, 'package.json');
  if (existsSync(pkgFile)) {
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports?: Exports; main?: string; module?: string };
    if (pkg.exports !== undefined) {
      const ex = pkg.exports;
      const isSubpathMap = typeof ex === 'object' && ex !== null && !Array.isArray(ex) && Object.keys(ex).some((k) => k.startsWith('.'));
      const target = isSubpathMap ? pickExport((ex as Record<string, Exports>)[subpath]) : subpath === '.' ? pickExport(ex) : undefined;
      return target === undefined ? undefined : resolve(dir, target);
    }
    if (subpath === '.' && typeof pkg.main === 'string') {
      const main = resolve(dir, pkg.main);
      for (const candidate of [main, `${main}.js`, `${main}.mjs`, join(main, 'index.js')]) {
        if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
      }
    }
  }
  const base = subpath === '.' ? dir : resolve(dir, subpath);
  for (const candidate of [base, `${base}.js`, `${base}.mjs`, join(base, 'index.js'), join(base, 'index.mjs')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function locatePath(type: string, baseDir: string): ModuleLocation {
  const target = type.startsWith('file:') ? fileURLToPath(type) : resolve(baseDir, type);
  if (!existsSync(target)) return { found: false, reason: `no file or directory at ${target} (paths resolve from the config file's directory ${baseDir})` };
  if (statSync(target).isDirectory()) {
    const entry = packageEntry(target, '.');
    if (entry === undefined) return { found: false, reason: `directory ${target} has no package.json entry point or index.js` };
    return { found: true, description: entry, load: importFile(entry) };
  }
  return { found: true, description: target, load: importFile(target) };
}

function splitPackage(spec: string): { name: string; subpath: string } {
  const parts = spec.split('/');
  const n = spec.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, n).join('/');
  const rest = parts.slice(n).join('/');
  return { name, subpath: rest === '' ? '.' : `./${rest}` };
}

function locatePackage(type: string, baseDir: string): ModuleLocation {
  const { name, subpath } = splitPackage(type);
  let dir = baseDir;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(candidate)) {
      const entry = packageEntry(candidate, subpath);
      if (entry !== undefined) return { found: true, description: entry, load: importFile(entry) };
      return { found: false, reason: `package "${name}" at ${candidate} exports no entry for "${subpath}"` };
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  try {
    const file = createRequire(join(baseDir, 'noop.js')).resolve(type);
    return { found: true, description: file, load: importFile(file) };
  } catch {
    return { found: false, reason: `package "${name}" is not installed where the config file is (${baseDir}); run npm install ${name} there, or give a path (./my-plugin.js)` };
  }
}

/** Finds the module a non-alias `type:` names: a path (from `baseDir`) or an installed package. */
export function locatePluginModule(type: string, baseDir: string): ModuleLocation {
  return isPathSpecifier(type) ? locatePath(type, baseDir) : locatePackage(type, baseDir);
}
