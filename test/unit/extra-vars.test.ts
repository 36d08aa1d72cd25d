import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { parseExtraVars } from '../../src/playbook/extra-vars.js';

const fx = (n: string) => `test/fixtures/extra-vars/${n}`;

describe('--extra-vars', () => {
  it('takes key=value, inline mappings and @files, later items winning', () => {
    expect(parseExtraVars(['a=1', 'b=x=y', '{"c": [1, 2]}', `@${fx('good.yml')}`, 'sshd_port=2200'])).toEqual({
      a: 1, b: 'x=y', c: [1, 2], sshd_port: 2200, docker_tls: { ca: 'CA' },
    });
  });
  it.each([
    [['nokey'], /use key=value, a YAML mapping/, undefined, undefined],
    [['{a: [}'], /not valid YAML\/JSON/, undefined, undefined],
    [[`@${fx('missing.yml')}`], /cannot read .*missing.yml: no such file/, fx('missing.yml'), undefined],
    [[`@${fx('bad-syntax.yml')}`], /not valid YAML/, fx('bad-syntax.yml'), 2],
    [[`@${fx('bad-list.yml')}`], /must be a mapping of names to values, not a list/, fx('bad-list.yml'), 1],
  ])('%j is refused, naming what is wrong', (items, message, file, line) => {
    const e = (() => {
      try {
        parseExtraVars(items);
      } catch (x) {
        return x as UsageError;
      }
      throw new Error('accepted');
    })();
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(message);
    expect(e.file).toBe(file);
    expect(e.line).toBe(line);
  });
});
