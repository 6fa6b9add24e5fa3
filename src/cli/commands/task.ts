import { createLogger } from '../../observability/logger.ts';
import { runTask } from '../../runner/run.ts';
import { CliError } from '../errors.ts';

const USAGE = 'usage: startup-factory task run   (the entrypoint of a pipeline task Job; reads SF_GATEWAY_URL and SF_TASK_TOKEN)';

/** `startup-factory task run`: one task attempt, in its Job's pod. */
export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (sub !== 'run' || rest.length > 0) throw new CliError(USAGE, 2);
  return runTask(process.env, createLogger({ level: process.env.LOG_LEVEL === 'debug' ? 'debug' : 'info' }));
}
