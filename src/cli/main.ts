import { CliError } from './errors.ts';

/** Each command lives in its own module, loaded only when used, so `task run` never loads the controller. */
type Command = { run(argv: string[]): Promise<number | void> };
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  version: { summary: 'print the version', load: () => import('./commands/version.ts') },
  operator: { summary: 'run the operator', load: () => import('./commands/operator.ts') },
  crds: { summary: 'print the CustomResourceDefinitions', load: () => import('./commands/crds.ts') },
  render: { summary: 'render a template to a directory', load: () => import('./commands/render.ts') },
  template: { summary: 'validate or pack a template directory', load: () => import('./commands/template.ts') },
  report: { summary: 'analytics in the terminal (the dashboard\'s figures)', load: () => import('./commands/report.ts') },
  export: { summary: "write a startup's repository (scaffold and plan) to a directory", load: () => import('./commands/export.ts') },
  task: { summary: 'run one pipeline task attempt (the entrypoint of task Jobs)', load: () => import('./commands/task.ts') },
  debug: { summary: 'diagnostics for pods: exit, sleep, env, echo', load: () => import('./commands/debug.ts') },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: startup-factory <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) throw new CliError(`unknown command "${name}" (try --help)`, 2);
  const code = await (await command.load()).run(rest);
  return code ?? 0;
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? 'unknown error';
}

const invokedDirectly = process.argv[1] && /(startup-factory(\.js)?|main\.ts)$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      // Users get one actionable line, never a stack trace; STARTUP_FACTORY_DEBUG=1 shows the stack.
      process.stderr.write(`startup-factory: ${oneLine(err)}\n`);
      if (process.env.STARTUP_FACTORY_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
      process.exitCode = err instanceof CliError ? err.exitCode : 1;
    },
  );
}
