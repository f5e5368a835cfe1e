import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ENGINE_VERSION } from '../core/version.js';
import { isFenestraError } from '../core/errors.js';
import { registerValidate } from './commands/validate.js';
import { registerStart } from './commands/start.js';
import { registerGenData } from './commands/gen-data.js';
import { registerTrainingSet } from './commands/training-set.js';
import { registerBackfill } from './commands/backfill.js';

/**
 * Each subcommand lives in cli/commands/<name>.ts and exports `register<Name>(program)`.
 * Registration point: add one line per command to COMMANDS (start, backfill, training-set, gen-data, bench).
 */
const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerValidate,
  registerStart,
  registerGenData,
  registerTrainingSet,
  registerBackfill,
];

/** Builds the `fenestra` command line program (exported for tests and embedding). */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('fenestra')
    .description('Fenestra: a real-time feature engine. Event streams in, per-entity windowed features out, exactly-once through crashes, served in well under a millisecond.')
    .version(ENGINE_VERSION, '-V, --version')
    .showHelpAfterError('(run fenestra --help for usage)')
    .addHelpText('after', '\nExamples:\n  fenestra validate -c config/examples/fraud.yaml\n  fenestra start -c fenestra.yaml\n\nConfig reference: docs/CONFIG.md');
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the CLI; errors with a Fenestra code print as `CODE: message` and exit 1. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (e) {
    if (isFenestraError(e)) process.stderr.write(`${e.code}: ${e.message}\n`);
    else process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) await main();
