/** A logged-in SSH connection to one host: the `Remote` that facts, steps and the engine use. */
import type { Client } from 'ssh2';
import { HostError, HostUnreachableError, RemoteCommandError } from '../core/errors.js';
import type { HostSpec } from '../core/host.js';
import type { CommandResult, ExecOptions, Remote, WriteFileOptions } from '../core/remote.js';
import { runChannel } from './channel.js';
import { killCommand, sudoFailure, wrapCommand, writeFileCommand, type Become } from './commands.js';
import type { HopOptions } from './hop.js';
import { connectRoute, type Route } from './route.js';
import { Semaphore } from './semaphore.js';

export interface ConnectOptions {
  /** TCP connect + SSH handshake + login, per hop. Default 10 s. */
  connectTimeoutMs?: number;
  /** Default timeout of `exec`. Default 5 min. */
  commandTimeoutMs?: number;
  /** Record unknown host keys instead of refusing them (OpenSSH StrictHostKeyChecking=accept-new). */
  acceptNew?: boolean;
  keyPassphrase?: string;
  /** ssh-agent socket. Default: $SSH_AUTH_SOCK; '' for none. */
  agentSocket?: string;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Session channels open at once. OpenSSH's MaxSessions defaults to 10. Default 8. */
  maxChannels?: number;
  /** Log in as this user instead of spec.user (the target host only, not jump hosts). */
  user?: string;
  /** Use these keys instead of spec.identityFiles (the target host only). */
  identityFiles?: string[];
  /** sshd was moved from this port: its known host keys are trusted (and recorded) on spec.port. */
  keysOfPort?: number;
  /** sudo password (--ask-become-pass); used only when `sudo -n` is refused. */
  becomePassword?: string;
}

interface Settings extends HopOptions {
  commandTimeoutMs: number;
  maxChannels: number;
  becomePassword?: string;
}

function settings(o: ConnectOptions): Settings {
  return {
    connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    commandTimeoutMs: o.commandTimeoutMs ?? 300_000,
    acceptNew: o.acceptNew ?? false,
    keyPassphrase: o.keyPassphrase,
    agentSocket: o.agentSocket ?? process.env.SSH_AUTH_SOCK,
    keepaliveIntervalMs: o.keepaliveIntervalMs ?? 5_000,
    keepaliveCountMax: o.keepaliveCountMax ?? 3,
    maxChannels: o.maxChannels ?? 8,
    becomePassword: o.becomePassword,
  };
}

/** A sudo refusal: nothing ran. */
export class BecomeError extends RemoteCommandError {
  constructor(result: CommandResult, what: string, override readonly hint: string) {
    super(result, what);
  }
}

const KILL_TIMEOUT_MS = 15_000;

export class SshConnection implements Remote {
  private readonly channels: Semaphore;
  private readonly aborts = new Set<(e: HostError) => void>();
  private gone?: HostError;
  private become?: Promise<Become>;

  private constructor(
    readonly spec: HostSpec,
    private readonly client: Client,
    private readonly route: Route,
    private readonly settings: Settings,
    private readonly loginUser: string,
  ) {
    this.channels = new Semaphore(settings.maxChannels);
  }

  /**
   * Log in to `spec` (through its jump chain), checking every hop's host key. Rejects with
   * HostUnreachableError, TimeoutError, AuthFailedError, HostKeyUnknownError or HostKeyMismatchError.
   */
  static async open(spec: HostSpec, options: ConnectOptions = {}): Promise<SshConnection> {
    const s = settings(options);
    const target = { spec, user: options.user ?? spec.user, identityFiles: options.identityFiles ?? spec.identityFiles, keysOfPort: options.keysOfPort };
    let conn: SshConnection | undefined;
    let lostEarly: HostError | undefined;
    const route = await connectRoute(target, s, (e) => (conn ? conn.lose(e) : (lostEarly = e)));
    conn = new SshConnection(spec, route.client, route, s, target.user);
    if (lostEarly) conn.lose(lostEarly);
    return conn;
  }

  /**
   * A fresh connection: a new TCP connection and a new login to the host (same jump route, the
   * user and keys given), never a reuse of an open one. The guarded changes rely on it to prove
   * that a new login still works after sshd or the firewall changed. Only jump hops are shared.
   */
  static openFresh(spec: HostSpec, options: ConnectOptions = {}): Promise<SshConnection> {
    return SshConnection.open(spec, options);
  }

  get name(): string {
    return this.spec.name;
  }

  /** The port this connection reached. */
  get port(): number {
    return this.spec.port;
  }

  /** The user this connection is logged in as. */
  get user(): string {
    return this.loginUser;
  }

  /** Set once the connection is closed or lost. */
  get closed(): boolean {
    return this.gone !== undefined;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<CommandResult> {
    if (this.gone) throw this.gone;
    const become = await this.becomeMode(options.sudo ?? false);
    let stdin = options.stdin;
    if (become === 'password') stdin = Buffer.concat([Buffer.from(`${this.settings.becomePassword}\n`), Buffer.from(stdin ?? '')]);
    const timeoutMs = options.timeoutMs ?? this.settings.commandTimeoutMs;
    let killing: Promise<void> | undefined;
    const result = await this.channels.run(() =>
      runChannel(
        this.client,
        {
          host: this.name,
          command,
          wire: wrapCommand(command, become),
          stdin,
          timeoutMs,
          onData: options.onData,
          onTimeout: (pid) => (killing = this.killGroup(pid, become !== 'none')),
        },
        (abort) => {
          this.aborts.add(abort);
          return () => this.aborts.delete(abort);
        },
      ),
    ).catch(async (e: unknown) => {
      // A timeout is reported only once the kill has run, since a caller may close the connection
      // on it. Waited for here, after the slot was given back: the kill needs a channel of its own.
      await killing;
      throw e;
    });
    if (result.code !== 0 && become !== 'none') this.checkSudo(result);
    if (result.code !== 0 && !options.allowFailure) throw new RemoteCommandError(result);
    return result;
  }

  async writeFile(path: string, content: string | Buffer, options: WriteFileOptions): Promise<void> {
    try {
      await this.exec(writeFileCommand(path, options), { stdin: content, sudo: options.sudo });
    } catch (e) {
      if (e instanceof RemoteCommandError && !(e instanceof BecomeError)) throw new RemoteCommandError(e.result, `write ${path}`);
      throw e;
    }
  }

  close(): void {
    this.lose(new HostUnreachableError(this.name, 'connection closed by hardfleet'));
    this.client.end();
  }

  private lose(e: HostError): void {
    if (this.gone) return;
    this.gone = e;
    for (const abort of [...this.aborts]) abort(e);
    this.route.release();
  }

  private becomeMode(sudo: boolean): Promise<Become> {
    if (!sudo || this.loginUser === 'root') return Promise.resolve('none');
    if (this.settings.becomePassword === undefined) return Promise.resolve('nopasswd');
    // With NOPASSWD, `sudo -S` would not read the password and the command would get it on stdin.
    this.become ??= this.exec('sudo -n true', { allowFailure: true, timeoutMs: 30_000 }).then((r) =>
      r.code === 0 ? 'nopasswd' : 'password',
    );
    return this.become;
  }

  private checkSudo(result: CommandResult): void {
    const why = sudoFailure(result.stderr);
    if (!why) return;
    const what = `sudo as ${this.loginUser} on ${this.name}`;
    if (why === 'password-required') {
      throw new BecomeError(result, `${what} wants a password`, `configure NOPASSWD sudo for ${this.loginUser}, or run with --ask-become-pass`);
    }
    if (why === 'wrong-password') throw new BecomeError(result, `${what}: wrong password`, 'check the --ask-become-pass password');
    throw new BecomeError(result, `${what} is not allowed`, `allow ${this.loginUser} to run commands as root in sudoers`);
  }

  /**
   * Best effort, never rejects. The channel is closed already, which stops nothing that does not
   * write; and OpenSSH ignores the KILL signal request for root logins (their session runs in the
   * monitor: "session signalling requires privilege separation"). This kill is what stops them.
   */
  private killGroup(pid: number | undefined, sudo: boolean): Promise<void> {
    if (!pid || !Number.isInteger(pid) || pid <= 1 || this.gone) return Promise.resolve();
    return this.exec(killCommand(pid), { sudo, allowFailure: true, timeoutMs: KILL_TIMEOUT_MS }).then(() => undefined, () => undefined);
  }
}
