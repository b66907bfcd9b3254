import { main } from './main.js';

// process.exitCode (not process.exit) lets stdout drain before the process ends.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kv-envelope: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
