import { operatorHelp, parseOperatorConfig, type OperatorConfig } from '../../operator/config.ts';
import { buildOperator, type Operator } from '../../operator/operator.ts';
import { CliError } from '../errors.ts';

const usage = `usage: startup-factory operator [flags]

Runs the controllers, the AI gateway, /metrics, /healthz and /readyz. Every flag has
an environment variable twin; a flag wins over its variable.

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
  let operator: Operator;
  try {
    operator = buildOperator(config);
  } catch (err) {
    throw new CliError(`operator: ${(err as Error).message}`);
  }
  return operator.run();
}
