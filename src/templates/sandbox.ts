import nunjucks from 'nunjucks';

/**
 * Nunjucks is not a sandbox: `{{ range.constructor("return process")() }}` runs code,
 * because attribute lookups reach JavaScript prototypes. Rather than patch its runtime
 * (shared process-wide), every template is parsed and its syntax tree checked before it
 * is compiled: a lookup must use a literal key that is not a prototype door, names of
 * that kind are refused everywhere, and nothing may pull in other templates. With no
 * dynamic keys, a template can only ever reach the own data it was given, the
 * built-in filters and the harmless globals.
 */

type AstNode = { typename: string; fields: string[]; value?: unknown; lineno: number; colno: number } & Record<string, unknown>;

const { parser, nodes } = nunjucks as unknown as {
  parser: { parse(src: string): AstNode };
  nodes: { Node: abstract new () => AstNode };
};

/** `constructor` leads to Function; `__proto__`, `__lookupGetter__` and kin to prototypes. */
function isForbiddenName(name: unknown): boolean {
  return typeof name === 'string' && (name === 'constructor' || name === 'prototype' || name.startsWith('__'));
}

const NO_INCLUDES = new Set(['Include', 'Import', 'FromImport', 'Extends']);

export class TemplateSafetyError extends Error {
  override name = 'TemplateSafetyError';
}

function refuse(node: AstNode, what: string): never {
  throw new TemplateSafetyError(`line ${node.lineno + 1}, column ${node.colno + 1}: ${what}`);
}

function check(node: AstNode): void {
  if (NO_INCLUDES.has(node.typename)) {
    refuse(node, `{% ${node.typename.toLowerCase()} %} is not allowed: a template file cannot load other files`);
  }
  if (node.typename === 'Symbol' && isForbiddenName(node.value)) {
    refuse(node, `the name "${String(node.value)}" is not allowed`);
  }
  if (node.typename === 'LookupVal') {
    const key = node.val as AstNode;
    if (key.typename !== 'Literal') refuse(node, 'computed attribute lookups (x[y]) are not allowed; use a literal key');
    if (isForbiddenName(key.value)) refuse(node, `the attribute "${String(key.value)}" is not allowed`);
  }
  for (const field of node.fields) {
    const child = node[field];
    const children = Array.isArray(child) ? child : [child];
    for (const c of children) if (c instanceof nodes.Node) check(c);
  }
}

/** Throws TemplateSafetyError (unsafe) or nunjucks' own Template render error (bad syntax). */
export function assertSafeTemplate(source: string): void {
  check(parser.parse(source));
}
