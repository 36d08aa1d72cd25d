#!/usr/bin/env node
/** hardfleet's command line: the only place that formats errors and picks exit codes. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { labCommand } from './lab.js';
import { applyCmd, planCmd } from './apply.js';
import { runCmd } from './run.js';
import { factsCmd } from './facts.js';
import { formatError, exitCodeFor } from './errors.js';
import { joinDashValues } from './argv.js';

// `hardfleet lab status | head`: a closed pipe is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

async function main(): Promise<void> {
  await yargs(joinDashValues(hideBin(process.argv)))
    .scriptName('hardfleet')
    .parserConfiguration({ 'populate--': true })
    .command(applyCmd)
    .command(planCmd)
    .command(runCmd)
    .command(factsCmd)
    .command(labCommand)
    .demandCommand(1, 'say what to do: hardfleet --help lists the commands')
    .strict()
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`error: ${msg}\nrun with --help for usage\n`);
      process.exit(1);
    })
    .help()
    .parseAsync();
}

// Exit once the command is done, even if a connection a host never closed still holds the event
// loop: an operator's terminal (or CI job) must not hang after the recap.
main().then(() => process.exit(), (e: unknown) => {
  process.stderr.write(formatError(e) + '\n');
  process.exit(exitCodeFor(e));
});
