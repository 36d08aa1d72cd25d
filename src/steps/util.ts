/** Small helpers shared by steps: running privileged shell, package-manager commands, settings. */
import type { CommandResult, ExecOptions, Remote } from '../core/remote.js';
import { RemoteCommandError } from '../core/errors.js';
import { argv } from '../core/shell.js';
import type { HostFacts } from '../facts/types.js';

/** Run privileged shell; rejects with RemoteCommandError on a non-zero exit unless allowFailure. */
export function sh(remote: Remote, command: string, options: ExecOptions = {}): Promise<CommandResult> {
  return remote.exec(command, { sudo: true, ...options });
}

/** Run privileged shell and throw a RemoteCommandError described by `what` on failure. */
export async function must(remote: Remote, command: string, what: string, options: ExecOptions = {}): Promise<CommandResult> {
  const r = await sh(remote, command, { ...options, allowFailure: true });
  if (r.code !== 0) throw new RemoteCommandError(r, what);
  return r;
}

export function isDebianLike(f: HostFacts): boolean {
  return f.os.id === 'debian' || f.os.id === 'ubuntu' || f.os.idLike.includes('debian');
}

export function isRhelLike(f: HostFacts): boolean {
  return ['rhel', 'centos', 'fedora'].some((x) => f.os.id === x || f.os.idLike.includes(x)) || ['rocky', 'almalinux', 'ol'].includes(f.os.id);
}

export function installCommand(pm: HostFacts['pkgManager'], packages: string[]): string {
  // A host whose lists were never fetched (fresh image, cleaned cache) knows no package: refresh once then.
  if (pm === 'apt') {
    const install = argv('apt-get', '-y', 'install', ...packages);
    return `export DEBIAN_FRONTEND=noninteractive; ${install} || { apt-get -q update && ${install}; }`;
  }
  if (pm === 'dnf' || pm === 'yum') return argv(pm, '-y', 'install', ...packages);
  throw new Error('no package manager');
}

/** "20.10.24" >= "17.12"? Missing parts count as 0. */
export function versionAtLeast(version: string, min: string): boolean {
  const a = version.split('.').map((x) => parseInt(x, 10) || 0);
  const b = min.split('.').map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

export function varString(vars: Record<string, unknown>, key: string): string | undefined {
  const v = vars[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function varStrings(vars: Record<string, unknown>, key: string): string[] {
  const v = vars[key];
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function varPort(vars: Record<string, unknown>, key: string): number | undefined {
  const v = vars[key];
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}

/**
 * Shell that writes a file's previous state aside (`<path>.hardfleet-prev`, or an `-absent` marker)
 * so a failed validation can put it back with restoreScript.
 */
export function backupScript(paths: string[]): string {
  return paths.map((p) => {
    const q = argv(p);
    return `if [ -e ${q} ]; then cp -p ${q} ${argv(`${p}.hardfleet-prev`)}; else : > ${argv(`${p}.hardfleet-absent`)}; fi`;
  }).join('\n');
}

export function restoreScript(paths: string[]): string {
  return paths.map((p) => {
    const q = argv(p);
    return `if [ -e ${argv(`${p}.hardfleet-prev`)} ]; then mv -f ${argv(`${p}.hardfleet-prev`)} ${q}; fi; if [ -e ${argv(`${p}.hardfleet-absent`)} ]; then rm -f ${q} ${argv(`${p}.hardfleet-absent`)}; fi`;
  }).join('\n');
}

export function dropBackupsScript(paths: string[]): string {
  return paths.map((p) => argv('rm', '-f', `${p}.hardfleet-prev`, `${p}.hardfleet-absent`)).join('\n');
}
