/** Where a node sits in a JSON value: object keys and array indices from the root. */
export type JsonPath = readonly (string | number)[];

/** Visit every node of a JSON value, parents before children. */
export function walkJson(value: unknown, visit: (node: unknown, path: JsonPath) => void, path: JsonPath = []): void {
  visit(value, path);
  if (Array.isArray(value)) {
    value.forEach((item, i) => walkJson(item, visit, [...path, i]));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) walkJson(item, visit, [...path, key]);
  }
}

/**
 * `workItems[2].id`, the way issues name a field; with `indices: false`, `workItems[].id`,
 * the field's place in the schema, which per-field rules are keyed by.
 */
export function formatPath(path: JsonPath, indices = true): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += indices ? `[${segment}]` : '[]';
    else out += out === '' ? segment : `.${segment}`;
  }
  return out === '' ? '(root)' : out;
}
