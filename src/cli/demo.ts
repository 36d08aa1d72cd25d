/**
 * `npm run demo`: a small lab fleet, the plan, a rolling apply with the live view, and an
 * out-of-band before/after per host (read through the lab console, not through hardfleet's SSH).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { labConsole, labUp } from '../lab/lab.js';

const CLI = join(import.meta.dirname, 'index.js');
const LAB = process.env.HARDFLEET_DEMO_LAB ?? 'lab';
const HOSTS = Number(process.env.HARDFLEET_DEMO_HOSTS ?? 4);
const INVENTORY = `inventory/${LAB}.yml`;

const PROBE = [
  'printf "root login: %s\\n" "$(sshd -T -C user=root,host=x,addr=198.18.0.1 | sed -n "s/^permitrootlogin //p")"',
  'printf "password login: %s\\n" "$(sshd -T -C user=root,host=x,addr=198.18.0.1 | sed -n "s/^passwordauthentication //p")"',
  'printf "compilers: %s\\n" "$(for c in gcc make; do command -v $c >/dev/null && printf "%s " $c; done; echo)"',
  'printf "listening: %s\\n" "$(ss -Hltn | awk "{print \\$4}" | sed "s/.*://" | sort -nu | tr "\\n" " ")"',
  'printf "INPUT v4/v6: %s/%s\\n" "$(iptables -S INPUT | sed -n "s/^-P INPUT //p")" "$(ip6tables -S INPUT | sed -n "s/^-P INPUT //p")"',
  'printf "docker icc: %s\\n" "$(docker network inspect bridge --format "{{index .Options \\"com.docker.network.bridge.enable_icc\\"}}" 2>/dev/null || echo "docker down")"',
].join('; ');

async function snapshot(hosts: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const h of hosts) out.set(h, (await labConsole(LAB, h, [PROBE])).stdout.trim().split('\n'));
  return out;
}

function hardfleet(args: string[]): number {
  process.stdout.write(`\n$ hardfleet ${args.join(' ')}\n`);
  return spawnSync(process.execPath, [CLI, ...args], { stdio: 'inherit' }).status ?? 1;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('the demo boots a lab of real hosts and needs root: sudo npm run demo\n');
    process.exit(1);
  }
  const log = (m: string) => process.stderr.write(`[lab] ${m}\n`);
  const state = await labUp({ name: LAB, hosts: HOSTS, kind: 'full', inventoryFile: INVENTORY, log });
  const names = state.hosts.map((h) => h.name);
  process.stdout.write(`\nInventory ${INVENTORY}: ${names.join(', ')} (web1 is the canary)\n`);
  const before = await snapshot(names);

  hardfleet(['plan', 'playbooks/docker-host.yml', '-i', INVENTORY, '--limit', names[0]]);
  const code = hardfleet(['apply', 'playbooks/docker-host.yml', '-i', INVENTORY, '--json', `/tmp/hardfleet-demo-${LAB}.json`]);
  const after = await snapshot(names);

  process.stdout.write('\nBefore → after, read out-of-band through the lab console:\n');
  for (const h of names) {
    process.stdout.write(`  ${h}\n`);
    const b = before.get(h)!;
    const a = after.get(h)!;
    for (let i = 0; i < b.length; i++) {
      const [k, v0] = b[i].split(/:\s(.*)/s);
      const v1 = (a[i] ?? '').split(/:\s(.*)/s)[1] ?? '';
      process.stdout.write(`    ${k.padEnd(15)} ${(v0 ?? '').trim().padEnd(28)} → ${v1.trim()}\n`);
    }
  }
  process.stdout.write(`
JSON report: /tmp/hardfleet-demo-${LAB}.json
Run it again — a second apply changes nothing and says so:
  node dist/cli/index.js apply -i ${INVENTORY}
Look at a host without SSH:  node dist/cli/index.js lab console web1 -- sshd -T
Take the lab down:           node dist/cli/index.js lab down
`);
  process.exit(code);
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
