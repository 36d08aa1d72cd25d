/** hardfleet's commands and how its words are parsed, apart from index.ts so that tests parse exactly as the CLI does. */
import yargs, { type CommandModule } from 'yargs';
import { joinDashValues } from './argv.js';

// Each command's module loads its whole world (ssh, playbook steps, listr2, the lab): only the one
// named is loaded, so `hardfleet run` starts as fast as it can (the bench's floor is a bare ssh2
// loop). Help, a mistyped command or no command at all loads them all.
const COMMANDS: Record<string, () => Promise<Array<CommandModule<object, never>>>> = {
  apply: async () => [(await import('./apply.js')).applyCmd as never],
  plan: async () => [(await import('./apply.js')).planCmd as never],
  run: async () => [(await import('./run.js')).runCmd as never],
  facts: async () => [(await import('./facts.js')).factsCmd as never],
  lab: async () => [(await import('./lab.js')).labCommand as never],
};

export async function program(words: string[]) {
  const joined = joinDashValues(words);
  const first = joined.find((w) => !w.startsWith('-'));
  const named = first !== undefined && Object.hasOwn(COMMANDS, first) && !joined.some((w) => w === '--help' || w === '-h');
  const commands = named ? await COMMANDS[first]!() : (await Promise.all(Object.values(COMMANDS).map((load) => load()))).flat();
  let y = yargs(joined).scriptName('hardfleet').parserConfiguration({ 'populate--': true });
  for (const c of commands) y = y.command(c);
  return y
    .demandCommand(1, 'say what to do: hardfleet --help lists the commands')
    .strict()
    .strictCommands()
    .recommendCommands()
    .help();
}
