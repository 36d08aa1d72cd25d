#!/usr/bin/env node
/** hardfleet's command line: the only place that formats errors and picks exit codes. */
import { hideBin } from 'yargs/helpers';
import { formatError, exitCodeFor } from './errors.js';
import { program } from './program.js';

// `hardfleet lab status | head`: a closed pipe is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

async function main(): Promise<void> {
  await (await program(hideBin(process.argv)))
    .fail((msg, err) => {
      // yargs' own parse errors (YError: a flag without its value) are usage errors like msg.
      if (err && err.name !== 'YError') throw err;
      let text = msg ?? err?.message ?? '';
      // yargs' suggestion alone ("Did you mean apply?") does not say what was wrong.
      if (text.startsWith('Did you mean')) text = `unknown command ${JSON.stringify(hideBin(process.argv)[0])}. ${text}`;
      process.stderr.write(`error: ${text}\nrun with --help for usage\n`);
      process.exit(1);
    })
    .parseAsync();
}

// Exit once the command is done, even if a connection a host never closed still holds the event
// loop: an operator's terminal (or CI job) must not hang after the recap.
main().then(() => process.exit(), (e: unknown) => {
  process.stderr.write(formatError(e) + '\n');
  process.exit(exitCodeFor(e));
});
