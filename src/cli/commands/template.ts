import YAML from 'yaml';
import { loadTemplateDir, templateDir, toStartupTemplate, type LoadedTemplate } from '../../templates/load.ts';
import { validateTemplate } from '../../templates/validate.ts';
import { CliError } from '../errors.ts';

const USAGE = 'usage: startup-factory template validate <dir|name> | template pack <dir|name>';

async function loadValid(target: string | undefined): Promise<LoadedTemplate> {
  if (!target) throw new CliError(USAGE, 2);
  let template: LoadedTemplate;
  try {
    template = await loadTemplateDir(templateDir(target));
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const result = await validateTemplate(template);
  if (!result.ok) throw new CliError(`template ${template.name} is not valid (${result.reason}): ${result.message}`);
  return template;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, target, ...rest] = argv;
  if (rest.length > 0) throw new CliError(`unexpected argument ${rest[0]} (${USAGE})`, 2);
  switch (sub) {
    case 'validate': {
      const template = await loadValid(target);
      process.stdout.write(`template ${template.name} is valid: ${template.spec.files.length} files\n`);
      return 0;
    }
    case 'pack': {
      // lineWidth 0: base64 and long lines stay on one line, so the output diffs cleanly.
      process.stdout.write(YAML.stringify(toStartupTemplate(await loadValid(target)), { lineWidth: 0 }));
      return 0;
    }
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      throw new CliError(USAGE, 2);
  }
}
