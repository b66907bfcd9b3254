/** Progress of long jobs: a redrawn bar on a terminal, JSON lines on stderr otherwise. */
import type { RewrapProgress } from '../rewrap/index.js';

export interface ProgressReporter {
  /** The latest progress seen (the final one after the run). */
  readonly last: RewrapProgress | undefined;
  update(p: RewrapProgress): void;
  finish(): void;
}

export function createProgressReporter(json: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const tty = stream.isTTY === true && !json;
  let last: RewrapProgress | undefined;
  return {
    get last() {
      return last;
    },
    update(p) {
      last = p;
      if (!tty) {
        stream.write(`${JSON.stringify({ progress: p })}\n`);
        return;
      }
      const width = 30;
      const frac = p.total ? Math.min(1, (p.done + p.resumed) / p.total) : 0;
      const bar = p.total ? `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ${(frac * 100).toFixed(0).padStart(3)}% ` : '';
      const eta = p.etaMs === undefined ? '' : ` eta ${Math.ceil(p.etaMs / 1000)}s`;
      stream.write(`\r${bar}${p.done} done (${p.rewrapped} re-wrapped, ${p.skipped} skipped, ${p.failed} failed) ${p.rate.toFixed(0)}/s${eta}  `);
    },
    finish() {
      if (tty && last !== undefined) stream.write('\n');
    },
  };
}
