import { describe, expect, it } from 'vitest';
import { RemoteCommandError } from '../../src/core/errors.js';

const result = (command: string) => ({ host: 'web1', command, code: 1, signal: null, stdout: '', stderr: 'boom\n', ms: 3 });

describe('RemoteCommandError', () => {
  it.each([
    ['true', 'true: exit 1: boom'],
    ['set -e\nmkdir -p /x\ncat /y', 'set -e … (a script of 3 lines): exit 1: boom'],
    [`echo ${'a'.repeat(200)}`, `echo ${'a'.repeat(94)}…: exit 1: boom`],
  ])('names a command by its first line, never a whole script (%#)', (command, message) => {
    expect(new RemoteCommandError(result(command)).message).toBe(message);
  });

  it('says what was being done when the caller names it', () => {
    expect(new RemoteCommandError(result('set -e\nx'), 'arming the rollback').message).toBe('arming the rollback: exit 1: boom');
  });
});
