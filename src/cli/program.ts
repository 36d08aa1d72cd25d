/** hardfleet's commands and how its words are parsed, apart from index.ts so that tests parse exactly as the CLI does. */
import yargs from 'yargs';
import { labCommand } from './lab.js';
import { applyCmd, planCmd } from './apply.js';
import { runCmd } from './run.js';
import { factsCmd } from './facts.js';
import { joinDashValues } from './argv.js';

export function program(words: string[]) {
  return yargs(joinDashValues(words))
    .scriptName('hardfleet')
    .parserConfiguration({ 'populate--': true })
    .command(applyCmd)
    .command(planCmd)
    .command(runCmd)
    .command(factsCmd)
    .command(labCommand)
    .demandCommand(1, 'say what to do: hardfleet --help lists the commands')
    .strict()
    .strictCommands()
    .recommendCommands()
    .help();
}
