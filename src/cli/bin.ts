import { main } from './main.js';

// A closed pipe (e.g. `| head`) is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

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
