import { setupStartupController, type StartupControllerHandle } from '../../controller/startup-controller.ts';
import { setupProviderController } from '../../controller/provider-controller.ts';
import { setupTemplateController } from '../../controller/template-controller.ts';
import { operatorHelp, parseOperatorConfig, type OperatorConfig } from '../../operator/config.ts';
import { Manager, type ManagerOptions } from '../../operator/manager.ts';
import { CliError } from '../errors.ts';

const usage = `usage: startup-factory operator [flags]

Runs the controllers with /metrics, /healthz and /readyz. Every flag has an
environment variable twin; a flag wins over its variable.

flags:
${operatorHelp()}
`;

export type Operator = { manager: Manager; startups: StartupControllerHandle };

/**
 * The whole operator, composed: the command runs it, and the integration tests and the
 * benchmark run this same composition in-process against their cluster.
 */
export function buildOperator(config: OperatorConfig, options: Omit<ManagerOptions, 'config'> = {}): Operator {
  const manager = new Manager({ ...options, config });
  const startups = setupStartupController(manager);
  setupTemplateController(manager, startups.templates);
  setupProviderController(manager);
  return { manager, startups };
}

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
  let operator: Operator;
  try {
    operator = buildOperator(config);
  } catch (err) {
    throw new CliError(`operator: ${(err as Error).message}`);
  }
  return operator.manager.run();
}
