import { setTimeout as sleep } from 'node:timers/promises';
import { CliError } from '../errors.ts';

const usage = 'usage: startup-factory debug exit <code> [message...] | sleep <seconds> | env [NAME...] | echo <text...>';

/**
 * Diagnostics for pods of the project's image: a trivial, predictable process whose exit
 * code, duration, environment and output a test (or a person) can check.
 */
export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'exit': {
      const code = Number(rest[0] ?? '0');
      if (!Number.isInteger(code) || code < 0 || code > 255) throw new CliError(`debug exit: "${rest[0]}" is not an exit code (0-255)`, 2);
      if (rest.length > 1) process.stderr.write(`${rest.slice(1).join(' ')}\n`);
      return code;
    }
    case 'sleep': {
      const seconds = Number(rest[0]);
      if (!Number.isFinite(seconds) || seconds < 0) throw new CliError(`debug sleep: "${rest[0] ?? ''}" is not a number of seconds`, 2);
      await sleep(seconds * 1000);
      return 0;
    }
    case 'env': {
      const names = rest.length ? rest : Object.keys(process.env).sort();
      for (const name of names) process.stdout.write(`${name}=${process.env[name] ?? ''}\n`);
      return 0;
    }
    case 'echo':
      process.stdout.write(`${rest.join(' ')}\n`);
      return 0;
    default:
      throw new CliError(usage, 2);
  }
}
