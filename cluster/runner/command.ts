import { basename } from 'node:path';

/**
 * Kubernetes' `$(VAR)` expansion for env values, command and args: a defined variable is
 * substituted, an undefined one is left verbatim, and `$$` escapes a dollar.
 */
export function expandVars(input: string, vars: ReadonlyMap<string, string>): string {
  return input.replace(/\$(\$|\(([^)]*)\))/g, (match, escapeOrRef: string, name: string | undefined) => {
    if (escapeOrRef === '$') return '$';
    return name !== undefined && vars.has(name) ? (vars.get(name) as string) : match;
  });
}

export class UnsupportedCommandError extends Error {}

/**
 * The CLI arguments a container asks for. The image's entrypoint is `startup-factory`, so with
 * no `command` the args go straight to the CLI (as `docker run` would do); a `command` must
 * itself name the CLI, directly or through node, since nothing else exists in the image.
 */
export function cliArguments(command: string[] | undefined, args: string[] | undefined): string[] {
  const full = [...(command?.length ? command : ['startup-factory']), ...(args ?? [])];
  const first = basename(full[0] ?? '');
  if (first === 'startup-factory' || first === 'startup-factory.js') return full.slice(1);
  if (first === 'node' && /(startup-factory(\.js)?|main\.ts)$/.test(full[1] ?? '')) return full.slice(2);
  throw new UnsupportedCommandError(
    `the local pod runner runs only the startup-factory CLI, not ${JSON.stringify(full[0])}`);
}
