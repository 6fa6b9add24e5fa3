import { setupStartupController } from '../../controller/startup-controller.ts';
import { operatorHelp, parseOperatorConfig, type OperatorConfig } from '../../operator/config.ts';
import { Manager } from '../../operator/manager.ts';
import { CliError } from '../errors.ts';

const usage = `usage: startup-factory operator [flags]

Runs the controllers with /metrics, /healthz and /readyz. Every flag has an
environment variable twin; a flag wins over its variable.

flags:
${operatorHelp()}
`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage);
    return 0;
  }
  let config: OperatorConfig;
  try {
    config = parseOperatorConfig(argv);
  } catch (err) {
    throw new CliError(`operator: ${(err as Error).message}`, 2);
  }
  let manager: Manager;
  try {
    manager = new Manager({ config });
  } catch (err) {
    throw new CliError(`operator: ${(err as Error).message}`);
  }
  setupStartupController(manager);
  return manager.run();
}
