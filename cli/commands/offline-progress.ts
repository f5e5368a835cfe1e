import cliProgress from 'cli-progress';

/**
 * A progress bar with throughput and ETA for the offline commands (gen-data, backfill,
 * training-set). Draws on stderr when it is a TTY; otherwise prints a line every few seconds,
 * so logs of CI runs still show progress. `quiet` silences it (benchmarks, tests).
 */
export class Progress {
  private readonly bar: cliProgress.SingleBar | undefined;
  private readonly started = performance.now();
  private lastLine = 0;
  private value = 0;

  constructor(
    private readonly label: string,
    private total: number,
    private readonly opts: { quiet?: boolean; unit?: string } = {},
  ) {
    if (!opts.quiet && process.stderr.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${label} [{bar}] {percentage}% | {value}/{total} ${opts.unit ?? 'rows'} | {rate}/s | ETA {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 50,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { rate: '0' });
    }
  }

  setTotal(total: number): void {
    this.total = total;
    this.bar?.setTotal(total);
  }

  update(value: number): void {
    this.value = value;
    const secs = (performance.now() - this.started) / 1000;
    const rate = secs > 0 ? Math.round(value / secs) : 0;
    if (this.bar) {
      this.bar.update(value, { rate: rate.toLocaleString('en-US') });
    } else if (!this.opts.quiet && performance.now() - this.lastLine > 5000) {
      this.lastLine = performance.now();
      const pct = this.total > 0 ? ((100 * value) / this.total).toFixed(1) : '?';
      const eta = rate > 0 && this.total > value ? ((this.total - value) / rate).toFixed(0) : '0';
      process.stderr.write(`${this.label}: ${value}/${this.total} ${this.opts.unit ?? 'rows'} (${pct}%), ${rate}/s, ETA ${eta}s\n`);
    }
  }

  /** Stops the bar and returns elapsed seconds and the mean rate. */
  stop(): { seconds: number; rate: number } {
    const seconds = (performance.now() - this.started) / 1000;
    this.bar?.update(this.value);
    this.bar?.stop();
    return { seconds, rate: seconds > 0 ? this.value / seconds : 0 };
  }
}
