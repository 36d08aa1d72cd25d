/**
 * The lab's Debian 12 image and apt repository, built once with debootstrap from Debian's
 * packages and cached under /var/cache/hardfleet/images/<id>. The id hashes the package list and
 * the recipe below, so changing either builds a new image; an interrupted build leaves only a
 * temp folder that the next build removes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_ROOT } from './state.js';
import { isAlive, run } from './sys.js';

/** An out-of-the-box Debian server with Docker, unhardened on purpose. */
export const IMAGE_PACKAGES = [
  'systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'sudo', 'docker.io', 'iptables',
  'python3', 'iproute2', 'procps', 'kmod', 'ca-certificates', 'netbase', 'less',
  // development tools a minimal Docker host should not carry
  'gcc', 'make',
  // extra listening services a minimal host should not run
  'rpcbind', 'inetutils-telnetd',
];

/** Packages fetched from Debian into the lab repository (installable offline, not installed). */
export const REPO_EXTRA_PACKAGES = ['netfilter-persistent', 'iptables-persistent'];

/** Two lab packages installed at 1.0-1; newer versions wait in the lab repository's suites. */
export const LAB_PACKAGES = {
  security: { name: 'hardfleet-lab-secfix', installed: '1.0-1', update: '1.0-1+deb12u1', suite: 'bookworm-security' },
  regular: { name: 'hardfleet-lab-feature', installed: '1.0-1', update: '1.1-1', suite: 'bookworm-updates' },
} as const;

/** Where hosts see the lab repository (read-only bind mount, `file:` apt source). */
export const REPO_MOUNT = '/srv/hardfleet-repo';

const SUITES: Array<{ suite: string; origin: string; label: string }> = [
  { suite: 'bookworm', origin: 'Debian', label: 'Debian' },
  { suite: 'bookworm-updates', origin: 'Debian', label: 'Debian' },
  { suite: 'bookworm-security', origin: 'Debian', label: 'Debian-Security' },
];

/** Run inside the new root filesystem (chroot) after debootstrap. */
const CUSTOMIZE = `set -eu
# Each host gets its own host keys when it is created.
rm -f /etc/ssh/ssh_host_*
# Root may log in by key and by password, as on many out-of-the-box servers.
sed -i 's/^#\\?PermitRootLogin .*/PermitRootLogin yes/; s/^#\\?PasswordAuthentication .*/PasswordAuthentication yes/' /etc/ssh/sshd_config
printf 'PasswordAuthentication yes\\n' > /etc/ssh/sshd_config.d/50-cloud-init.conf
# A telnet daemon under inetd: a second extra listener besides rpcbind.
grep -q '^telnet' /etc/inetd.conf || printf 'telnet\\tstream\\ttcp\\tnowait\\troot\\t/usr/sbin/tcpd\\t/usr/sbin/telnetd\\n' >> /etc/inetd.conf
# The hosts reach no mirror: the lab repository is their only package source.
rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*
for s in ${SUITES.map((s) => s.suite).join(' ')}; do
  echo "deb [trusted=yes] file:${REPO_MOUNT} $s main"
done > /etc/apt/sources.list.d/hardfleet-lab.list
# Background apt runs would hold the dpkg lock at random moments and make lab runs flaky.
systemctl mask apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1
printf '# lab hosts reach no DNS server\\n' > /etc/resolv.conf
: > /etc/machine-id
dpkg -i /tmp/hf-debs/*.deb >/dev/null
rm -rf /tmp/hf-debs /var/cache/apt/archives/*.deb
# No lists (the lab repository is read on first update), but what apt keeps there on any Debian
# server that has run it (lock, partial/, auxfiles/), and the folder dated long ago: Ansible's
# cache_valid_time reads the folder's time when apt left no stamp, and apt creating any of them
# on first use would make never-refreshed lists look fresh.
rm -rf /var/lib/apt/lists
mkdir -p /var/lib/apt/lists/partial /var/lib/apt/lists/auxfiles
chown _apt:root /var/lib/apt/lists/partial /var/lib/apt/lists/auxfiles
chmod 0700 /var/lib/apt/lists/partial
touch /var/lib/apt/lists/lock
chmod 0640 /var/lib/apt/lists/lock
touch -d 2023-06-10 /var/lib/apt/lists
`;

export interface Image {
  id: string;
  dir: string;
  rootfs: string;
  repo: string;
}

export function imageId(): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ IMAGE_PACKAGES, REPO_EXTRA_PACKAGES, LAB_PACKAGES, SUITES, CUSTOMIZE, recipe: 1 }));
  return `bookworm-${h.digest('hex').slice(0, 12)}`;
}

function imagePaths(id: string, dir = join(CACHE_ROOT, 'images', id)): Image {
  return { id, dir, rootfs: join(dir, 'rootfs'), repo: join(dir, 'repo') };
}

/** The Debian mirror this machine's apt uses (HARDFLEET_MIRROR overrides). */
export function debianMirror(): string {
  if (process.env.HARDFLEET_MIRROR) return process.env.HARDFLEET_MIRROR;
  const texts: string[] = [];
  for (const f of ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f))]) {
    if (/\.(list|sources)$/.test(f) && existsSync(f)) texts.push(readFileSync(f, 'utf8'));
  }
  return mirrorFromSources(texts.join('\n'));
}

/** Pick the main Debian archive from sources.list / deb822 text (not -security, not third-party). */
export function mirrorFromSources(text: string): string {
  for (const line of text.split('\n')) {
    const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(bookworm|stable)\s/.exec(line);
    if (m) return m[1];
  }
  for (const stanza of text.split(/\n\s*\n/)) {
    const uris = /^URIs:\s*(\S+)/m.exec(stanza);
    const suites = /^Suites:\s*(.+)$/m.exec(stanza);
    if (uris && suites && /\b(bookworm|stable)\b(?!-)/.test(suites[1]) && !/security/.test(uris[1])) return uris[1];
  }
  throw new Error('no Debian bookworm mirror found in /etc/apt/sources.list*: set HARDFLEET_MIRROR to a Debian mirror URL');
}

function listDir(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

export function cachedImage(): Image | undefined {
  const img = imagePaths(imageId());
  return existsSync(join(img.dir, 'complete')) ? img : undefined;
}

/** Return the cached image, building it first when the recipe changed or it was never built. */
export async function ensureImage(log: (msg: string) => void): Promise<Image> {
  const ready = cachedImage();
  if (ready) return ready;
  const id = imageId();
  const imagesDir = join(CACHE_ROOT, 'images');
  mkdirSync(imagesDir, { recursive: true });
  for (const f of listDir(imagesDir)) {
    const m = /\.tmp-(\d+)$/.exec(f);
    if (m && !isAlive(Number(m[1]))) rmSync(join(imagesDir, f), { recursive: true, force: true });
  }
  const tmp = imagePaths(id, join(imagesDir, `${id}.tmp-${process.pid}`));
  mkdirSync(tmp.dir, { recursive: true });
  const mirror = debianMirror();
  log(`building lab image ${id} with debootstrap (Debian 12, ${IMAGE_PACKAGES.length} packages; once, about 2 minutes)`);
  await run(['debootstrap', '--variant=minbase', `--include=${IMAGE_PACKAGES.join(',')}`, 'bookworm', tmp.rootfs, mirror]);

  log('building the lab apt repository (security and regular updates)');
  const debs = join(tmp.dir, 'debs');
  mkdirSync(debs);
  // Debian's own packages for the repository, fetched with the new system's apt.
  await run(['chroot', tmp.rootfs, 'sh', '-c', `apt-get -qq update && mkdir -p /tmp/fetch && cd /tmp/fetch && apt-get -qq download ${REPO_EXTRA_PACKAGES.join(' ')}`]);
  const fetched = listDir(join(tmp.rootfs, 'tmp/fetch')).filter((f) => f.endsWith('.deb'));
  if (fetched.length < REPO_EXTRA_PACKAGES.length) throw new Error(`could not download ${REPO_EXTRA_PACKAGES.join(', ')} from ${mirror}`);
  const pool = (suite: string) => {
    const d = join(tmp.repo, 'pool', suite);
    mkdirSync(d, { recursive: true });
    return d;
  };
  for (const f of fetched) cpSync(join(tmp.rootfs, 'tmp/fetch', f), join(pool('bookworm'), f));
  rmSync(join(tmp.rootfs, 'tmp/fetch'), { recursive: true });

  mkdirSync(join(tmp.rootfs, 'tmp/hf-debs'), { recursive: true });
  for (const p of Object.values(LAB_PACKAGES)) {
    const installed = await buildDummyDeb(debs, p.name, p.installed);
    cpSync(installed, join(tmp.rootfs, 'tmp/hf-debs', `${p.name}.deb`));
    cpSync(installed, join(pool('bookworm'), `${p.name}_${p.installed}_all.deb`));
    const newer = await buildDummyDeb(debs, p.name, p.update);
    cpSync(newer, join(pool(p.suite), `${p.name}_${p.update}_all.deb`));
  }
  for (const s of SUITES) await indexSuite(tmp.repo, s);

  log('customising the image (unhardened on purpose)');
  await run(['chroot', tmp.rootfs, 'sh', '-s'], { input: CUSTOMIZE });
  rmSync(debs, { recursive: true });
  writeFileSync(join(tmp.dir, 'complete'), new Date().toISOString() + '\n');
  const final = imagePaths(id);
  rmSync(final.dir, { recursive: true, force: true });
  renameSync(tmp.dir, final.dir);
  return final;
}

async function buildDummyDeb(dir: string, name: string, version: string): Promise<string> {
  const root = join(dir, `${name}-${version}`);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, 'usr/share/doc', name), { recursive: true });
  writeFileSync(join(root, 'usr/share/doc', name, 'VERSION'), `${version}\n`);
  writeFileSync(
    join(root, 'DEBIAN/control'),
    [`Package: ${name}`, `Version: ${version}`, 'Architecture: all', 'Maintainer: hardfleet lab <lab@hardfleet.invalid>',
      'Section: misc', 'Priority: optional', `Description: hardfleet lab package (${version})`,
      ' Stands in for a package with pending updates in the lab repository.', ''].join('\n'),
  );
  const out = `${root}.deb`;
  await run(['dpkg-deb', '--root-owner-group', '-Zgzip', '--build', root, out]);
  return out;
}

async function indexSuite(repo: string, s: { suite: string; origin: string; label: string }): Promise<void> {
  const dists = join(repo, 'dists', s.suite);
  mkdirSync(join(dists, 'main/binary-amd64'), { recursive: true });
  mkdirSync(join(repo, 'pool', s.suite), { recursive: true });
  const pk = await run(['apt-ftparchive', 'packages', `pool/${s.suite}`], { cwd: repo });
  writeFileSync(join(dists, 'main/binary-amd64/Packages'), pk.stdout);
  const o = (k: string, v: string) => ['-o', `APT::FTPArchive::Release::${k}=${v}`];
  const rel = await run([
    'apt-ftparchive', ...o('Origin', s.origin), ...o('Label', s.label), ...o('Suite', s.suite), ...o('Codename', s.suite),
    ...o('Components', 'main'), ...o('Architectures', 'amd64 all'), 'release', `dists/${s.suite}`,
  ], { cwd: repo });
  writeFileSync(join(dists, 'Release'), rel.stdout);
}
