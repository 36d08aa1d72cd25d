/** One command on one SSH session channel: output collected, pid marker stripped, timeout enforced. */
import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel } from 'ssh2';
import { HostError, TimeoutError } from '../core/errors.js';
import type { CommandResult, ExecOptions } from '../core/remote.js';
import { PID_MARKER } from './commands.js';

export interface ChannelRun {
  host: string;
  /** The caller's command, as reported in the result. */
  command: string;
  /** What is actually sent (see wrapCommand). */
  wire: string;
  stdin?: string | Buffer;
  timeoutMs: number;
  onData?: ExecOptions['onData'];
  /** Called on timeout, after the channel was signalled and closed, with the pid if it was seen. */
  onTimeout(pid: number | undefined): void;
}

/** Hands the first `HFPID:<pid>` line of stderr to `onPid` and passes everything else on. */
class StderrFilter {
  private head = '';
  private seen = false;
  constructor(
    private readonly onPid: (pid: number) => void,
    private readonly emit: (text: string) => void,
  ) {}
  write(text: string): void {
    if (this.seen) return this.emit(text);
    this.head += text;
    let nl: number;
    while (!this.seen && (nl = this.head.indexOf('\n')) >= 0) {
      const line = this.head.slice(0, nl);
      this.head = this.head.slice(nl + 1);
      if (line.startsWith(PID_MARKER)) {
        this.seen = true;
        this.onPid(Number(line.slice(PID_MARKER.length)));
      } else {
        this.emit(`${line}\n`);
      }
    }
    if (this.seen && this.head) this.emit(this.head);
    if (this.seen) this.head = '';
  }
  end(): void {
    if (this.head) this.emit(this.head);
    this.head = '';
  }
}

/**
 * ssh2's `channel.signal()` sends nothing once our side has sent EOF (`writable` is false after
 * `end(stdin)`), yet the request is valid until the channel closes (RFC 4254 §6.9): send it on
 * the protocol directly. Best effort: OpenSSH refuses it for root logins, and older servers
 * ignore it; the connection's kill command (onTimeout) reaches those.
 */
function sendSignal(channel: ClientChannel, name: string): void {
  const ch = channel as unknown as { type?: string; outgoing?: { id: number; state: string }; _client?: { _protocol?: { signal(id: number, n: string): void } } };
  try {
    if (ch.type === 'session' && (ch.outgoing?.state === 'open' || ch.outgoing?.state === 'eof')) ch._client?._protocol?.signal(ch.outgoing.id, name);
  } catch {
    // the channel may be going away: the kill command still runs
  }
}

/**
 * Resolves with the result whatever the exit code. Rejects with TimeoutError, or with `abort`'s
 * error when the connection goes away (register/unregister let the connection reach it).
 */
export function runChannel(client: Client, run: ChannelRun, register: (abort: (e: HostError) => void) => () => void): Promise<CommandResult> {
  const started = Date.now();
  return new Promise<CommandResult>((resolve, reject) => {
    let channel: ClientChannel | undefined;
    let pid: number | undefined;
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unregister();
      settle();
    };
    const abort = (e: HostError) => finish(() => reject(e));
    const unregister = register((e) => {
      abort(e);
      channel?.close();
    });
    const timer = setTimeout(() => {
      abort(new TimeoutError(run.host, `${run.command}: timed out after ${run.timeoutMs}ms; remote process killed`));
      if (channel) {
        sendSignal(channel, 'KILL');
        channel.close();
      }
      run.onTimeout(pid);
    }, run.timeoutMs);

    const stdout: string[] = [];
    const stderr: string[] = [];
    const outDec = new StringDecoder('utf8');
    const errDec = new StringDecoder('utf8');
    const emitOut = (t: string) => {
      if (!t) return;
      stdout.push(t);
      run.onData?.('stdout', t);
    };
    const errFilter = new StderrFilter(
      (p) => (pid = p),
      (t) => {
        stderr.push(t);
        run.onData?.('stderr', t);
      },
    );
    let code: number | null = null;
    let signal: string | null = null;

    try {
      client.exec(run.wire, (err, ch) => {
        if (err) {
          return abort(new HostError(run.host, `cannot open an SSH session channel: ${err.message}`, 'sshd MaxSessions may be lower than --max-channels'));
        }
        channel = ch;
        if (settled) return ch.close();
        ch.on('data', (b: Buffer) => emitOut(outDec.write(b)));
        ch.stderr.on('data', (b: Buffer) => errFilter.write(errDec.write(b)));
        ch.on('exit', (c: number | null, s?: string) => {
          code = c;
          signal = s ?? null;
        });
        ch.on('error', () => undefined);
        ch.on('close', () => {
          emitOut(outDec.end());
          errFilter.write(errDec.end());
          errFilter.end();
          finish(() =>
            resolve({ host: run.host, command: run.command, code, signal, stdout: stdout.join(''), stderr: stderr.join(''), ms: Date.now() - started }),
          );
        });
        ch.end(run.stdin);
      });
    } catch (e) {
      abort(new HostError(run.host, `cannot run a command: ${(e as Error).message}`));
    }
  });
}
