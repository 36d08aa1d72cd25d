/** Where things are: the bench runs from dist/bench, the repository is two levels up. */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(REPO, 'dist', 'cli', 'index.js');
export const FLOOR = join(REPO, 'dist', 'bench', 'floor.js');
export const ANSIBLE_DIR = join(REPO, 'bench', 'ansible');
export const PLAYBOOK = join(REPO, 'playbooks', 'docker-host.yml');
