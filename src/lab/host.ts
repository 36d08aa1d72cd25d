/**
 * One lab host: its overlay root, its network namespace and link, and the process that runs it.
 * full: systemd-nspawn --boot, under a small supervisor that boots it again when it reboots.
 * light: sshd alone, chrooted into its overlay in a private mount namespace.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Image } from './image.js';
import { REPO_MOUNT } from './image.js';
import { slotNet, type SlotNet } from './net.js';
import { labDir, type HostState } from './state.js';
import { isAlive, processMatches, run, sleep, waitExit } from './sys.js';

export function hostDir(lab: string, host: string): string {
  return join(labDir(lab), 'hosts', host);
}

const SUPERVISOR = `#!/bin/bash
# hardfleet lab supervisor: boots one host with systemd-nspawn and boots it again when the host
# reboots itself (nspawn exits 133), as a real machine would come back. Ends with the host.
set -u
hostdir=$1 machine=$2 netns=$3 root=$4 repo=$5
child=
stopping=0
trap 'stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT
# Each host in cgroups of its own. Without systemd on the machine, nspawn nests the host's systemd
# in the cgroup it was started in: hosts started in the same one share payload/system.slice/UNIT,
# and each removes the others' unit cgroups (units fail at random with 219/CGROUP, e.g.
# systemd-user-sessions, whose /run/nologin then refuses every login but root's).
cgroups=
for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified; do
  [ -e "$h/cgroup.procs" ] || continue
  cg="$h/hardfleet-lab/$machine"
  mkdir -p "$cg" 2>/dev/null && echo $$ > "$cg/cgroup.procs" 2>/dev/null && cgroups="$cgroups $cg"
done
while :; do
  SYSTEMD_NSPAWN_API_VFS_WRITABLE=network systemd-nspawn --boot --quiet -D "$root" \\
    --machine="$machine" --network-namespace-path="/run/netns/$netns" \\
    --register=no --keep-unit --console=read-only --resolv-conf=off --timezone=off \\
    --capability=CAP_NET_ADMIN,CAP_NET_RAW,CAP_SYS_MODULE,CAP_SYS_RESOURCE \\
    --bind-ro="$repo:${REPO_MOUNT}" >>"$hostdir/console.log" 2>&1 </dev/null &
  child=$!
  echo "$child" > "$hostdir/nspawn.pid"
  # The host's init, so that a host whose nspawn died can still be ended by its recorded PID.
  # nspawn forks helpers of its own first (still named systemd-nspawn; they exit once the host's
  # init runs): only a child that has exec'd something else is the init.
  for _ in $(seq 100); do
    init=
    for p in $(cat /proc/$child/task/*/children 2>/dev/null); do
      c=$(cat "/proc/$p/comm" 2>/dev/null) && [ "$c" != systemd-nspawn ] && { init=$p; break; }
    done
    [ -n "$init" ] && { echo "$init" > "$hostdir/init.pid"; break; }
    sleep 0.1
  done
  while :; do wait "$child"; rc=$?; kill -0 "$child" 2>/dev/null || break; done
  child=
  echo "$(date -Is) nspawn exited $rc" >> "$hostdir/supervisor.log"
  [ "$stopping" = 1 ] && break
  [ "$rc" = 133 ] || break
  sleep 0.3
done
rm -f "$hostdir/nspawn.pid" "$hostdir/init.pid"
for cg in $cgroups; do
  echo $$ > "\${cg%/hardfleet-lab/*}/cgroup.procs" 2>/dev/null
  find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
  rmdir "\${cg%/*}" 2>/dev/null
done
true
`;

export function supervisorPath(lab: string): string {
  return join(labDir(lab), 'supervise.sh');
}

export function writeSupervisor(lab: string): void {
  writeFileSync(supervisorPath(lab), SUPERVISOR, { mode: 0o755 });
}

export interface HostSecrets {
  /** Operator public key authorised for root. */
  rootPublicKey: string;
  /** sha512-crypt hash of the lab's root password. */
  rootPasswordHash: string;
}

/** Create a file in the overlay's upper layer, its parent folders copying the image's owner and mode. */
function writeUpper(image: Image, upper: string, rel: string, content: string, mode: number, owner?: { uid: number; gid: number }): void {
  ensureUpperDir(image, upper, dirname(rel));
  const file = join(upper, rel);
  writeFileSync(file, content);
  chmodSync(file, mode);
  const lower = join(image.rootfs, rel);
  const o = owner ?? (existsSync(lower) ? statSync(lower) : { uid: 0, gid: 0 });
  chownSync(file, o.uid, o.gid);
}

function ensureUpperDir(image: Image, upper: string, relDir: string): void {
  let cur = '';
  for (const p of relDir.split('/').filter(Boolean)) {
    cur = join(cur, p);
    const target = join(upper, cur);
    if (!existsSync(target)) {
      const st = statSync(join(image.rootfs, cur));
      mkdirSync(target);
      chmodSync(target, st.mode & 0o7777);
      chownSync(target, st.uid, st.gid);
    }
  }
}

/** Give a new host what makes it itself: hostname, host keys, root's key and password. */
export async function prepareHost(lab: string, image: Image, h: HostState, secrets: HostSecrets): Promise<string> {
  const dir = hostDir(lab, h.name);
  rmSync(dir, { recursive: true, force: true });
  const upper = join(dir, 'upper');
  mkdirSync(upper, { recursive: true });
  mkdirSync(join(dir, 'work'));
  mkdirSync(join(dir, 'root'));
  writeUpper(image, upper, 'etc/hostname', `${h.name}\n`, 0o644);
  writeUpper(image, upper, 'etc/hosts', `127.0.0.1\tlocalhost\n127.0.1.1\t${h.name}\n${h.ipv4}\t${h.name}\n${h.ipv6}\t${h.name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`, 0o644);
  const shadow = readFileSync(join(image.rootfs, 'etc/shadow'), 'utf8').replace(/^root:[^:]*:/m, `root:${secrets.rootPasswordHash}:`);
  writeUpper(image, upper, 'etc/shadow', shadow, 0o640);
  writeUpper(image, upper, 'root/.ssh/authorized_keys', secrets.rootPublicKey.trim() + '\n', 0o600, { uid: 0, gid: 0 });
  chmodSync(join(upper, 'root/.ssh'), 0o700);
  ensureUpperDir(image, upper, 'etc/ssh');
  await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `root@${h.name}`, '-f', join(upper, 'etc/ssh/ssh_host_ed25519_key')]);
  return readFileSync(join(upper, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').trim();
}

export async function ensureBridge(net: SlotNet): Promise<void> {
  const exists = (await run(['ip', 'link', 'show', net.bridge], { allowFailure: true })).code === 0;
  if (!exists) await run(['ip', 'link', 'add', net.bridge, 'type', 'bridge']);
  await run(['ip', 'addr', 'replace', `${net.bridgeV4}/${net.prefixV4}`, 'dev', net.bridge]);
  await run(['ip', '-6', 'addr', 'replace', `${net.bridgeV6}/${net.prefixV6}`, 'dev', net.bridge, 'nodad']);
  await run(['ip', 'link', 'set', net.bridge, 'up']);
}

/** The host's network namespace, its veth pair on the lab bridge, and its addresses. */
export async function plugHost(slot: number, h: HostState): Promise<void> {
  const net = slotNet(slot);
  await run(['ip', 'netns', 'add', h.netns]);
  await run(['ip', 'link', 'add', h.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.netns]);
  await run(['ip', 'link', 'set', h.veth, 'master', net.bridge, 'up']);
  const ns = (...a: string[]) => run(['ip', '-n', h.netns, ...a]);
  await ns('link', 'set', 'lo', 'up');
  await ns('addr', 'add', `${h.ipv4}/${net.prefixV4}`, 'dev', 'eth0');
  await ns('-6', 'addr', 'add', `${h.ipv6}/${net.prefixV6}`, 'dev', 'eth0', 'nodad');
  await ns('link', 'set', 'eth0', 'up');
  await ns('route', 'add', 'default', 'via', net.bridgeV4);
  await ns('-6', 'route', 'add', 'default', 'via', net.bridgeV6);
}

function detach(argv: string[], logFile: string): number {
  const log = openSync(logFile, 'a');
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  return child.pid!;
}

export async function startFull(lab: string, image: Image, h: HostState): Promise<void> {
  const dir = hostDir(lab, h.name);
  h.mountpoint = join(dir, 'root');
  await run(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${image.rootfs},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, h.mountpoint]);
  // detach() already makes it a session leader (a setsid program would fork and lose the PID).
  h.pid = detach(['bash', supervisorPath(lab), dir, `hf-${lab}-${h.name}`, h.netns, h.mountpoint, image.repo], join(dir, 'supervisor.log'));
}

export function startLight(lab: string, image: Image, h: HostState): void {
  const dir = hostDir(lab, h.name);
  const r = join(dir, 'root');
  // The mounts live and die with this private mount namespace: nothing to unmount afterwards.
  const script = [
    `mount -t overlay overlay -o lowerdir=${image.rootfs},upperdir=${dir}/upper,workdir=${dir}/work ${r}`,
    `mount -t proc proc ${r}/proc`,
    `mount --rbind /dev ${r}/dev`,
    `mount -t tmpfs -o mode=755 tmpfs ${r}/run`,
    `mount -t tmpfs -o mode=1777 tmpfs ${r}/tmp`,
    `mkdir -p ${r}/run/sshd ${r}${REPO_MOUNT}`,
    // the lab repository, read-only, as on full hosts: package steps work here too
    `mount --bind ${image.repo} ${r}${REPO_MOUNT}`,
    `mount -o remount,bind,ro ${r}${REPO_MOUNT}`,
    `hostname ${h.name}`,
    `exec chroot ${r} /usr/sbin/sshd -D -e`,
  ].join(' && ');
  h.pid = detach(['ip', 'netns', 'exec', h.netns, 'unshare', '--mount', '--uts', '--propagation', 'private', 'sh', '-c', script], join(dir, 'sshd.log'));
}

/** PID of the host's init (full) or sshd (light): the process whose namespaces the console enters. */
export function consolePid(lab: string, h: HostState): number {
  if (h.kind === 'light') {
    if (!isAlive(h.pid)) throw new Error(`host ${h.name} is not running (sshd pid ${h.pid} is gone): run hardfleet lab up --name ${lab}`);
    return h.pid!;
  }
  const nspawn = readPid(join(hostDir(lab, h.name), 'nspawn.pid'));
  const init = nspawn ? childrenOf(nspawn)[0] : undefined;
  if (!init) throw new Error(`host ${h.name} is not running (booting or powered off): check ${hostDir(lab, h.name)}/console.log`);
  return init;
}

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** Stop the host's processes by their recorded PIDs (checked to be ours), gracefully first. */
export async function stopHost(lab: string, h: HostState): Promise<void> {
  const dir = hostDir(lab, h.name);
  if (h.kind === 'full') {
    const nspawn = readPid(join(dir, 'nspawn.pid'));
    const init = readPid(join(dir, 'init.pid'));
    if (processMatches(h.pid, supervisorPath(lab))) {
      // The supervisor passes SIGTERM to nspawn, which powers the host off cleanly.
      process.kill(h.pid!, 'SIGTERM');
      if (!(await waitExit(h.pid!, 30_000))) process.kill(h.pid!, 'SIGKILL');
    } else if (processMatches(nspawn, dir)) {
      process.kill(nspawn, 'SIGTERM');
      await waitExit(nspawn, 20_000);
    }
    if (processMatches(nspawn, dir)) {
      process.kill(nspawn, 'SIGKILL');
      await waitExit(nspawn, 5_000);
    }
    // An init left without its nspawn would keep the whole host running: end its PID namespace.
    if (init && isAlive(init) && processMatches(init, 'systemd') && !isAlive(nspawn)) {
      process.kill(init, 'SIGKILL');
      await waitExit(init, 5_000);
    }
  } else if (processMatches(h.pid, 'sshd')) {
    process.kill(h.pid!, 'SIGKILL');
    await waitExit(h.pid!, 5_000);
  }
  if (h.mountpoint) {
    for (let i = 0; i < 20; i++) {
      const mounted = readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === h.mountpoint);
      if (!mounted) break;
      const r = await run(['umount', h.mountpoint], { allowFailure: true });
      if (r.code !== 0) {
        await run(['umount', '-l', h.mountpoint], { allowFailure: true });
        await sleep(200);
      }
    }
  }
}

function readPid(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

export async function unplugHost(h: HostState): Promise<void> {
  await run(['ip', 'netns', 'del', h.netns], { allowFailure: true });
  await run(['ip', 'link', 'del', h.veth], { allowFailure: true });
}
