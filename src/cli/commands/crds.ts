import { renderCrdFiles } from '../../api/crds.ts';
import { CliError } from '../errors.ts';

/** `startup-factory crds`: the CRDs as one multi-document YAML stream, for `kubectl apply -f -`. */
export async function run(argv: string[]): Promise<number> {
  if (argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write('usage: startup-factory crds   (print the CustomResourceDefinitions; pipe to kubectl apply -f -)\n');
    return 0;
  }
  if (argv.length > 0) throw new CliError(`crds takes no arguments (got "${argv[0]}")`, 2);
  process.stdout.write(renderCrdFiles().map((f) => f.yaml).join('---\n'));
  return 0;
}
