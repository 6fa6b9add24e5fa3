import { describe, expect, it } from 'vitest';
import { cliArguments, expandVars, UnsupportedCommandError } from './command.ts';

describe('expandVars', () => {
  const vars = new Map([['NAME', 'demo'], ['EMPTY', '']]);
  it('substitutes defined variables and keeps undefined ones verbatim', () => {
    expect(expandVars('hello $(NAME)-$(EMPTY)-$(MISSING)', vars)).toBe('hello demo--$(MISSING)');
  });
  it('treats $$ as an escaped dollar', () => {
    expect(expandVars('$$(NAME) costs $$5', vars)).toBe('$(NAME) costs $5');
  });
});

describe('cliArguments', () => {
  it('passes args straight to the CLI when there is no command (the image entrypoint)', () => {
    expect(cliArguments(undefined, ['task', 'run'])).toEqual(['task', 'run']);
  });
  it('accepts the CLI named directly or through node', () => {
    expect(cliArguments(['/usr/local/bin/startup-factory', 'debug'], ['exit', '3'])).toEqual(['debug', 'exit', '3']);
    expect(cliArguments(['node', '/app/bin/startup-factory.js'], ['operator'])).toEqual(['operator']);
  });
  it('refuses any other program', () => {
    expect(() => cliArguments(['sh', '-c', 'echo hi'], undefined)).toThrow(UnsupportedCommandError);
  });
});
