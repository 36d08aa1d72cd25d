/**
 * Secrets a run needs from the operator, asked for once before any host is touched: the passphrase
 * of encrypted keys and the sudo (become) password. Never one prompt per host, never a prompt in
 * the middle of the live view; without a terminal a missing secret is an error, not a hang.
 */
import { UsageError } from '../core/errors.js';
import type { HostSpec } from '../core/host.js';
import { isEncryptedKey, type ConnectOptions } from '../ssh/index.js';

export interface SecretArgs {
  'key-passphrase-env'?: string;
  'ask-become-pass'?: boolean;
  'become-pass-env'?: string;
}

export interface Prompt {
  interactive: boolean;
  ask(question: string): Promise<string>;
}

/** Reads one line from the terminal without echoing it. */
export const terminalPrompt: Prompt = {
  interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
  ask(question) {
    return new Promise((resolve, reject) => {
      const stdin = process.stdin;
      process.stderr.write(question);
      stdin.setRawMode(true);
      stdin.resume();
      let value = '';
      const done = (err?: Error) => {
        stdin.setRawMode(false);
        stdin.pause();
        stdin.off('data', onData);
        process.stderr.write('\n');
        if (err) reject(err);
        else resolve(value);
      };
      const onData = (buf: Buffer) => {
        for (const ch of buf.toString('utf8')) {
          if (ch === '\r' || ch === '\n') return done();
          if (ch === '\u0003') return done(new UsageError('interrupted at the prompt: nothing ran'));
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on('data', onData);
    });
  },
};

function fromEnv(flag: string, name: string | undefined): string | undefined {
  if (!name) return undefined;
  const v = process.env[name];
  if (v === undefined) throw new UsageError(`--${flag} ${name}: that environment variable is not set`);
  return v;
}

/** Every key file a run may log in with: the hosts', their jump hosts', and the admin key of the proofs. */
export function keyFilesOf(hosts: HostSpec[], adminKeyOf: (h: HostSpec) => unknown = (h) => h.vars.admin_private_key_file): string[] {
  const out = new Set<string>();
  const walk = (h: HostSpec | undefined) => {
    for (; h; h = h.jump) for (const f of h.identityFiles) out.add(f);
  };
  for (const h of hosts) {
    walk(h);
    const admin = adminKeyOf(h);
    if (typeof admin === 'string') out.add(admin);
  }
  return [...out];
}

export async function withSecrets(opts: ConnectOptions, a: SecretArgs, keyFiles: string[], prompt: Prompt = terminalPrompt): Promise<ConnectOptions> {
  let keyPassphrase = fromEnv('key-passphrase-env', a['key-passphrase-env']);
  let becomePassword = fromEnv('become-pass-env', a['become-pass-env']);
  if (a['ask-become-pass'] && becomePassword === undefined) {
    if (!prompt.interactive) throw new UsageError('--ask-become-pass needs a terminal to ask on', undefined, undefined, 'pass the password through an environment variable with --become-pass-env VAR');
    becomePassword = await prompt.ask('BECOME password: ');
  }
  if (keyPassphrase === undefined) {
    const encrypted = [...new Set(keyFiles)].filter(isEncryptedKey);
    if (encrypted.length && prompt.interactive) {
      keyPassphrase = await prompt.ask(`Passphrase for ${encrypted.join(', ')}: `);
    }
    // Without a terminal, each host reports the encrypted key with the --key-passphrase-env hint.
  }
  return { ...opts, keyPassphrase, becomePassword };
}
