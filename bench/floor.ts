/**
 * The floor of hardfleet's design (issue 5): a bare ssh2 loop. Every host at once: connect, log
 * in with the key, exec `true`, close. Nothing else: no inventory, no host key check, no report.
 * Usage: node dist/bench/floor.js HOSTS.json   ({ "user", "key", "hosts": ["198.18.0.10", ...] })
 */
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';

const { Client } = ssh2;
const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { user: string; key: string; hosts: string[] };
const privateKey = readFileSync(spec.key);
let failed = 0;

await Promise.all(spec.hosts.map((host) => new Promise<void>((resolve) => {
  const c = new Client();
  let ok = false;
  c.on('ready', () => {
    c.exec('true', (err, ch) => {
      if (err) {
        c.end();
        return;
      }
      ch.on('exit', (code: number | null) => (ok = code === 0));
      ch.on('close', () => c.end());
      ch.resume();
      ch.stderr.resume();
    });
  });
  c.on('error', () => undefined);
  c.on('close', () => {
    if (!ok) failed++;
    resolve();
  });
  c.connect({ host, port: 22, username: spec.user, privateKey, readyTimeout: 60_000 });
})));

if (failed) {
  process.stderr.write(`${failed} of ${spec.hosts.length} hosts failed\n`);
  process.exitCode = 1;
}
