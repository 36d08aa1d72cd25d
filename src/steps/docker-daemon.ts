/**
 * docker.daemon: merge hardening keys into /etc/docker/daemon.json, keep the operator's keys, drop
 * keys current dockerd refuses, validate before restarting, restore the old file if Docker fails.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { HostError, RemoteCommandError } from '../core/errors.js';
import { argv } from '../core/shell.js';
import type { HostFacts } from '../facts/types.js';
import { StepRefusedError, type Change, type Plan, type PlanContext, type StepDefinition } from './types.js';
import { must, sh, versionAtLeast } from './util.js';

export const DAEMON_JSON = '/etc/docker/daemon.json';
const TLS_DIR = '/etc/docker/tls';

const tlsSchema = z.object({ ca: z.string().min(1), cert: z.string().min(1), key: z.string().min(1) }).strict();

const settingsSchema = z.object({
  /** Override any default key; null leaves that key as the operator has it. */
  set: z.record(z.string(), z.unknown()).default({}),
  /**
   * PEM text of the CA, the server certificate and its key, for a daemon that listens on tcp://.
   * A host var `docker_tls` (same shape) wins: server certificates are per host.
   */
  tls: tlsSchema.optional(),
  /** Leave a tcp:// API without TLS as it is (a warning) instead of failing the host. */
  allow_insecure_tcp: z.boolean().default(false),
});

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export const DEFAULTS: Record<string, unknown> = {
  icc: false,
  'default-ulimits': {
    nproc: { Name: 'nproc', Hard: 2048, Soft: 1024 },
    nofile: { Name: 'nofile', Hard: 2048, Soft: 1020 },
  },
  'live-restore': true,
  'no-new-privileges': true,
  'userland-proxy': false,
};

/** Keys dockerd refuses (or ignores) from the given version on. */
export const REMOVED_KEYS: Array<{ key: string; since: string; reason: string }> = [
  { key: 'disable-legacy-registry', since: '17.12', reason: 'legacy v1 registry support removed; dockerd 17.12+ refuses to start with it' },
  { key: 'graph', since: '23.0', reason: 'replaced by data-root; removed in 23.0' },
  { key: 'cluster-store', since: '23.0', reason: 'legacy overlay networking without swarm removed in 23.0' },
  { key: 'cluster-advertise', since: '23.0', reason: 'legacy overlay networking without swarm removed in 23.0' },
  { key: 'cluster-store-opts', since: '23.0', reason: 'legacy overlay networking without swarm removed in 23.0' },
  { key: 'oom-score-adjust', since: '25.0', reason: 'removed in 25.0; dockerd no longer adjusts its own OOM score' },
  { key: 'api-cors-header', since: '28.0', reason: 'removed in 28.0; use a reverse proxy' },
];

/** dockerd flag → daemon.json key, where the names differ (others match without the dashes). */
const FLAG_KEYS: Record<string, string> = {
  '-H': 'hosts', '--host': 'hosts', '--label': 'labels', '--insecure-registry': 'insecure-registries',
  '--registry-mirror': 'registry-mirrors', '--add-runtime': 'runtimes', '--authorization-plugin': 'authorization-plugins',
  '--dns-opt': 'dns-opts', '--exec-opt': 'exec-opts', '--log-opt': 'log-opts', '--storage-opt': 'storage-opts',
  '--default-ulimit': 'default-ulimits', '-D': 'debug', '-l': 'log-level', '-G': 'group', '-g': 'data-root', '-p': 'pidfile',
};

export function flagKeys(flags: string[]): Set<string> {
  const out = new Set<string>();
  for (const w of flags) {
    if (!w.startsWith('-')) continue;
    const name = w.split('=')[0]!;
    out.add(FLAG_KEYS[name] ?? name.replace(/^--?/, ''));
  }
  return out;
}

function hosts(current: Record<string, unknown>, flags: string[]): string[] {
  const out = Array.isArray(current.hosts) ? current.hosts.filter((h): h is string => typeof h === 'string') : [];
  flags.forEach((w, i) => {
    if (w === '-H' || w === '--host') out.push(flags[i + 1] ?? '');
    else if (/^(-H|--host)=/.test(w)) out.push(w.split('=').slice(1).join('='));
  });
  return out;
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

export function planDockerDaemon(f: HostFacts, ctx: PlanContext): Plan {
  if (!f.docker.installed) return { changes: [], warnings: [], notApplicable: 'Docker is not installed' };
  // The step restarts dockerd and checks it came back: that needs the service manager that runs it.
  if (f.init !== 'systemd') return { changes: [], warnings: [], notApplicable: 'not a systemd host: nothing manages dockerd here' };
  const s = settingsSchema.parse(ctx.settings ?? {});
  let current: Record<string, unknown> = {};
  if (f.docker.daemonJson !== null && f.docker.daemonJson.trim() !== '') {
    try {
      const parsed: unknown = JSON.parse(f.docker.daemonJson);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      current = parsed as Record<string, unknown>;
    } catch (e) {
      throw new StepRefusedError(`${DAEMON_JSON} is not a JSON object (${(e as Error).message}): not touching it`, 'fix the file by hand first');
    }
  }
  const warnings: string[] = [];
  const notes: string[] = [];
  const version = f.docker.version;
  const next: Record<string, unknown> = { ...current };

  for (const r of REMOVED_KEYS) {
    if (r.key in next && (version === null || versionAtLeast(version, r.since))) {
      delete next[r.key];
      notes.push(`removed ${r.key}: ${r.reason}`);
    }
  }
  const flags = flagKeys(f.docker.flags);
  for (const k of Object.keys(current)) {
    if (flags.has(k)) warnings.push(`${k} is set both in ${DAEMON_JSON} and as a dockerd flag: dockerd refuses to start like this`);
  }
  const wanted = { ...DEFAULTS, ...s.set };
  for (const [k, v] of Object.entries(wanted)) {
    if (v === null) continue;
    if (flags.has(k)) {
      warnings.push(`${k} is a dockerd flag in the unit: not set in ${DAEMON_JSON}`);
      continue;
    }
    next[k] = v;
  }

  const tlsFiles: Array<{ path: string; content: string; mode: number }> = [];
  const tcp = hosts(current, f.docker.flags).filter((h) => h.startsWith('tcp://'));
  const hostTls = ctx.vars.docker_tls;
  if (tcp.length) {
    let tls = s.tls;
    if (hostTls !== undefined) {
      const parsed = tlsSchema.safeParse(hostTls);
      if (!parsed.success) throw new StepRefusedError('var docker_tls must be a mapping of ca, cert and key (PEM text)', 'set docker_tls: { ca: ..., cert: ..., key: ... } in the host vars');
      tls = parsed.data;
    }
    if (tls) {
      tlsFiles.push(
        { path: `${TLS_DIR}/ca.pem`, content: tls.ca, mode: 0o444 },
        { path: `${TLS_DIR}/server-cert.pem`, content: tls.cert, mode: 0o444 },
        { path: `${TLS_DIR}/server-key.pem`, content: tls.key, mode: 0o400 },
      );
      Object.assign(next, { tls: true, tlsverify: true, tlscacert: tlsFiles[0]!.path, tlscert: tlsFiles[1]!.path, tlskey: tlsFiles[2]!.path });
    } else if (current.tlsverify !== true && !flags.has('tlsverify')) {
      const msg = `dockerd listens on ${tcp.join(', ')} without tlsverify: anyone who reaches it is root on this host`;
      if (!s.allow_insecure_tcp) throw new StepRefusedError(msg, 'give the host a docker_tls var (or settings.tls) with ca, cert and key, or remove the tcp:// host; allow_insecure_tcp: true accepts the risk');
      warnings.push(msg);
    }
  }
  const staleTls = tlsFiles.filter((t) => f.docker.tlsFiles[t.path] !== sha256(t.content));

  if (stable(next) === stable(current) && staleTls.length === 0) return { changes: [], warnings: [...warnings, ...notes] };
  const after = JSON.stringify(next, null, 2) + '\n';
  const changed = [...new Set([...Object.keys(next), ...Object.keys(current)])].filter((k) => stable(next[k]) !== stable(current[k]));
  const cand = `${DAEMON_JSON}.hardfleet-new`;
  const prev = `${DAEMON_JSON}.hardfleet-prev`;
  const canValidate = version !== null && versionAtLeast(version, '23.0');
  const what = [
    ...(changed.length ? [`daemon.json: ${changed.join(', ')}`] : []),
    ...(staleTls.length ? [`TLS files ${staleTls.map((t) => t.path).join(', ')}`] : []),
  ];
  const change: Change = {
    summary: `${what.join('; ')}${notes.length ? ` (${notes.join('; ')})` : ''}`,
    // key material never goes into a diff
    files: [{ path: DAEMON_JSON, before: f.docker.daemonJson, after }],
    backupPaths: [DAEMON_JSON],
    async apply(remote) {
      if (tlsFiles.length) await must(remote, argv('mkdir', '-p', '-m', '0755', TLS_DIR), 'TLS directory');
      for (const t of tlsFiles) await remote.writeFile(t.path, t.content, { mode: t.mode, owner: 'root', group: 'root', sudo: true });
      await must(remote, argv('mkdir', '-p', '/etc/docker'), '/etc/docker');
      await remote.writeFile(cand, after, { mode: 0o644, owner: 'root', group: 'root', sudo: true });
      if (canValidate) {
        const v = await sh(remote, argv('dockerd', '--validate', '--config-file', cand), { allowFailure: true });
        if (v.code !== 0) {
          await sh(remote, argv('rm', '-f', cand), { allowFailure: true });
          throw new RemoteCommandError(v, 'dockerd --validate rejected the new daemon.json (left unchanged)');
        }
      }
      await must(remote, [
        `if [ -e ${DAEMON_JSON} ]; then cp -p ${DAEMON_JSON} ${prev}; else rm -f ${prev}; fi`,
        `mv -f ${cand} ${DAEMON_JSON}`,
      ].join('\n'), 'install daemon.json');
      const healthy = await sh(remote, [
        'systemctl restart docker || exit 1',
        'i=0; while [ $i -lt 30 ]; do docker info >/dev/null 2>&1 && exit 0; i=$((i+1)); sleep 2; done; exit 1',
      ].join('\n'), { allowFailure: true, timeoutMs: 180_000 });
      if (healthy.code !== 0) {
        const log = await sh(remote, 'journalctl -u docker -n 5 --no-pager 2>/dev/null | tail -n 3', { allowFailure: true });
        await sh(remote, [
          `if [ -e ${prev} ]; then mv -f ${prev} ${DAEMON_JSON}; else rm -f ${DAEMON_JSON}; fi`,
          'systemctl restart docker',
        ].join('\n'), { allowFailure: true, timeoutMs: 180_000 });
        throw new HostError(remote.name, `Docker did not come back with the new daemon.json; previous file restored: ${log.stdout.trim().replace(/\n/g, ' | ')}`);
      }
      await sh(remote, argv('rm', '-f', prev), { allowFailure: true });
    },
    async verify(remote) {
      const r = await must(remote, "docker info --format '{{.LiveRestoreEnabled}}'; docker network inspect bridge --format '{{index .Options \"com.docker.network.bridge.enable_icc\"}}'", 'docker info');
      const [live, icc] = r.stdout.trim().split('\n');
      const bad: string[] = [];
      if (typeof next['live-restore'] === 'boolean' && live !== String(next['live-restore'])) bad.push(`live-restore ${live}`);
      if (typeof next.icc === 'boolean' && icc !== String(next.icc)) bad.push(`bridge enable_icc ${icc}`);
      if (bad.length) throw new HostError(remote.name, `Docker runs with ${bad.join(', ')}`);
    },
  };
  return { changes: [change], warnings: [...warnings, ...notes] };
}

export const dockerDaemonStep: StepDefinition = {
  id: 'docker.daemon',
  tags: ['docker'],
  settingsSchema,
  plan: planDockerDaemon,
};
