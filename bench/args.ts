/** `npm run bench -- [--scenario LIST] [--pairs N] [--out FILE] [--warm-fresh] [--keep]` */

export const SCENARIOS = ['labup', '1', '2', 'rss', '3', '4', '5'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchArgs {
  scenarios: Set<Scenario>;
  pairs: number;
  out?: string;
  /** Also time Ansible warm on the scenarios that need fresh hosts (a lab more per pair). */
  warmFresh: boolean;
  /** Leave the bench labs up at the end. */
  keep: boolean;
}

export function parseArgs(argv: string[]): BenchArgs {
  const a: BenchArgs = { scenarios: new Set(SCENARIOS), pairs: 3, warmFresh: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    const [flag, inline] = w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, undefined];
    const value = () => inline ?? argv[++i] ?? '';
    if (flag === '--scenario' || flag === '-s') {
      const list = value().split(',').map((s) => s.trim()).filter(Boolean);
      const bad = list.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
      if (bad.length || !list.length) throw new Error(`--scenario ${bad.join(',') || '(empty)'}: choose from ${SCENARIOS.join(', ')}`);
      a.scenarios = new Set(list as Scenario[]);
    } else if (flag === '--pairs') {
      a.pairs = Number(value());
      if (!Number.isInteger(a.pairs) || a.pairs < 1) throw new Error('--pairs: give a whole number of 1 or more');
    } else if (flag === '--out') a.out = value();
    else if (flag === '--warm-fresh') a.warmFresh = true;
    else if (flag === '--keep') a.keep = true;
    else throw new Error(`unknown argument ${w}; usage: npm run bench -- [--scenario ${SCENARIOS.join(',')}] [--pairs N] [--out FILE] [--warm-fresh] [--keep]`);
  }
  return a;
}
