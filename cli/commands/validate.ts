import type { Command } from 'commander';
import { checkConfig } from '../../config/load.js';
import type { ConfigIssue } from '../../config/issues.js';
import type { EngineSpec, GroupSpec } from '../../core/model.js';
import { formatDuration } from '../../core/time/duration.js';

function printIssues(file: string, issues: readonly ConfigIssue[]): void {
  process.stderr.write(`${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n`);
  const ordered = [...issues].sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
  for (const i of ordered) {
    const where = i.path === '' ? '' : `${i.path}: `;
    const line = i.line === undefined ? '' : ` (line ${i.line})`;
    process.stderr.write(`  ${where}${i.message} [${i.code}]${line}\n`);
  }
}

function groupText(w: GroupSpec): string {
  if (w.kind !== 'aggregated') return `stored, ${w.fields.length} field(s), ttl ${w.ttl === 0 ? 'none' : formatDuration(w.ttl)}`;
  return `${w.features.length} feature(s) + ${w.derived.length} derived, from source ${w.source}`;
}

/** A short human summary of a valid config. */
export function summarize(file: string, spec: EngineSpec): string {
  const lines = [`${file}: valid`];
  lines.push(`  entities: ${[...spec.entities.values()].map((e) => `${e.name} (key ${e.key})`).join(', ')}`);
  lines.push(`  sources: ${[...spec.sources.values()].map((s) => `${s.name} (${s.type} → ${s.entity}, ${s.fields.length} fields)`).join(', ') || 'none'}`);
  lines.push('  feature groups:');
  for (const g of spec.groups.values()) lines.push(`    ${g.name} [${g.entity}]: ${groupText(g)}`);
  lines.push(`  feature services: ${[...spec.services.values()].map((s) => `${s.name} (${s.features.length} features)`).join(', ') || 'none'}`);
  lines.push(`  online: ${spec.online.type}, offline: ${spec.offline.type}, state: ${spec.state.dir}`);
  return `${lines.join('\n')}\n`;
}

/** `fenestra validate -c FILE`: prints every problem (path: message [CODE]) and exits 1, or a summary and exits 0. */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check a config file: YAML, ${ENV} references, schema, references between sections, derived expressions and plugins; print every problem at once')
    .requiredOption('-c, --config <file>', 'config file (YAML)')
    .option('--no-plugins', 'skip loading and checking the adapter plugins')
    .option('--json', 'print the result as JSON ({ valid, issues })')
    .action(async (opts: { config: string; plugins: boolean; json?: boolean }) => {
      const { spec, issues } = await checkConfig(opts.config, process.env, { plugins: opts.plugins });
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify({ valid: spec !== undefined, issues }, null, 2)}\n`);
      } else if (spec === undefined) {
        printIssues(opts.config, issues);
      } else {
        process.stdout.write(summarize(opts.config, spec));
      }
      process.exitCode = spec === undefined ? 1 : 0;
    });
}
