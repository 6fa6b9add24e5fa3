/**
 * The shape of `src/`: its top-level folders form layers, so the folder import graph is
 * acyclic; the foundations (`lib`, `api`) depend on no other folder; and an `index.ts`
 * only gathers what its folder exports, so importing it runs no code of its own.
 * Imports are read with the TypeScript parser, so comments and strings never count.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const src = join(root, 'src');

type SourceFile = { path: string; folder: string; text: string };
type Import = { file: string; specifier: string; target: string; folder: string };

/** Every non-test `.ts` file under src, with the top-level folder it belongs to. */
function sourceFiles(): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push({ path, folder: folderOf(path), text: readFileSync(path, 'utf8') });
    }
  };
  walk(src);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** `src/pipeline/dag.ts` → `pipeline`; a path outside src → `../…` as it is. */
function folderOf(path: string): string {
  const rel = relative(src, path);
  if (rel.startsWith('..')) return rel;
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0]! : '(src)';
}

/** Module specifiers of static imports and re-exports (type-only included), dynamic `import()` and `import('…')` types. */
function specifiers(file: SourceFile): string[] {
  const sf = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      found.push(node.moduleReference.expression.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) found.push(arg.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** The relative imports of every file, resolved to the folder they land in. */
function relativeImports(files: readonly SourceFile[]): Import[] {
  return files.flatMap((file) => specifiers(file)
    .filter((s) => s.startsWith('./') || s.startsWith('../'))
    .map((specifier) => {
      const target = resolve(dirname(file.path), specifier);
      return { file: relative(root, file.path), specifier, target: relative(root, target), folder: folderOf(target) };
    }));
}

/** Folder → folders it imports from, with one example import per edge for the failure message. */
function folderGraph(files: readonly SourceFile[]): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>(files.map((f) => [f.folder, new Map()]));
  const byPath = new Map(files.map((f) => [relative(root, f.path), f.folder]));
  for (const i of relativeImports(files)) {
    const from = byPath.get(i.file)!;
    if (i.folder === from) continue;
    const edges = graph.get(from)!;
    if (!edges.has(i.folder)) edges.set(i.folder, `${i.file} imports '${i.specifier}'`);
  }
  return graph;
}

/** Strongly connected components of more than one folder (Tarjan), each a set of folders importing each other in a ring. */
function cycles(graph: ReadonlyMap<string, ReadonlyMap<string, string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!indices.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indices.has(v)) connect(v);
  return components;
}

/** The shortest ring through a component, as `a → b → … → a`, then every folder edge inside it with an import behind it. */
function describeCycle(graph: ReadonlyMap<string, ReadonlyMap<string, string>>, component: readonly string[]): string {
  const members = new Set(component);
  const start = component[0]!;
  // Breadth-first from start back to start, inside the component: the shortest ring.
  const previous = new Map<string, string>();
  const queue = [...(graph.get(start)?.keys() ?? [])].filter((n) => members.has(n));
  for (const n of queue) previous.set(n, start);
  while (queue.length > 0 && !previous.has(`${start}#back`)) {
    const v = queue.shift()!;
    for (const w of graph.get(v)?.keys() ?? []) {
      if (w === start) previous.set(`${start}#back`, v);
      else if (members.has(w) && !previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  const ring = [start];
  for (let v = previous.get(`${start}#back`); v !== undefined && v !== start; v = previous.get(v)) ring.unshift(v);
  ring.unshift(start);
  const within = component.flatMap((from) => [...(graph.get(from) ?? [])]
    .filter(([to]) => members.has(to))
    .map(([to, example]) => `  ${from} → ${to}: ${example}`));
  return `${ring.join(' → ')}; every import between ${component.join(', ')}:\n${within.join('\n')}`;
}

const files = sourceFiles();

describe('layout of src/', () => {
  it('finds the source files and their imports', () => {
    expect(files.length).toBeGreaterThan(50);
    const folders = new Set(files.map((f) => f.folder));
    for (const f of ['api', 'lib', 'pipeline', 'gateway', 'runner']) expect(folders).toContain(f);
    // The import reader sees type-only imports, re-exports and dynamic imports.
    const probe: SourceFile = {
      path: join(src, 'probe', 'x.ts'),
      folder: 'probe',
      text: [
        "import type { A } from '../api/a.ts';",
        "export { b } from '../lib/b.ts';",
        "export * from './c.ts';",
        "const d = await import('../kube/d.ts');",
        "type E = import('../runtime/e.ts').E;",
        "// import { f } from '../not/this.ts';",
        "const s = \"import('../nor/this.ts')\";",
        "import { z } from 'zod';",
      ].join('\n'),
    };
    expect(specifiers(probe)).toEqual(['../api/a.ts', '../lib/b.ts', './c.ts', '../kube/d.ts', '../runtime/e.ts', 'zod']);
  });

  it('detects a folder cycle when there is one, and none in a layered graph', () => {
    const g = (edges: Record<string, string[]>) => new Map(Object.entries(edges).map(([k, v]) => [k, new Map(v.map((t) => [t, `${k} imports ${t}`]))]));
    expect(cycles(g({ a: ['b'], b: ['c'], c: [], d: ['a', 'c'] }))).toEqual([]);
    const ring = g({ a: ['b'], b: ['c'], c: ['a'], d: ['a'] });
    expect(cycles(ring)).toEqual([['a', 'b', 'c']]);
    expect(describeCycle(ring, ['a', 'b', 'c'])).toMatch(/^a → b → c → a;/);
  });

  it('has no import cycle between its top-level folders', () => {
    const graph = folderGraph(files);
    const found = cycles(graph).map((c) => describeCycle(graph, c));
    expect(found, `import cycles between folders of src/:\n${found.join('\n')}`).toEqual([]);
  });

  it('imports nothing from outside src/ by a relative path', () => {
    const outside = relativeImports(files).filter((i) => i.folder.startsWith('..')).map((i) => `${i.file} imports '${i.specifier}'`);
    expect(outside).toEqual([]);
  });

  it('keeps src/lib free of imports from any other folder', () => {
    const lib = files.filter((f) => f.folder === 'lib');
    expect(lib.length).toBeGreaterThan(0);
    const escapes = relativeImports(lib).filter((i) => i.folder !== 'lib').map((i) => `${i.file} imports '${i.specifier}'`);
    expect(escapes).toEqual([]);
  });

  it('keeps src/api free of imports from the other folders of src/', () => {
    const api = files.filter((f) => f.folder === 'api');
    expect(api.length).toBeGreaterThan(0);
    const escapes = relativeImports(api).filter((i) => i.folder !== 'api').map((i) => `${i.file} imports '${i.specifier}'`);
    expect(escapes).toEqual([]);
  });

  it('has index.ts files that hold nothing but re-exports, types and comments (no logic)', () => {
    const indexes = files.filter((f) => f.path.endsWith(`${sep}index.ts`));
    expect(indexes.length).toBeGreaterThan(0);
    const offenders: string[] = [];
    for (const file of indexes) {
      const sf = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
      for (const statement of sf.statements) {
        const reExport = ts.isExportDeclaration(statement) && statement.moduleSpecifier !== undefined;
        // Types are erased before anything runs: a barrel may name them.
        const typeOnly = ts.isTypeAliasDeclaration(statement) || ts.isInterfaceDeclaration(statement)
          || (ts.isImportDeclaration(statement) && statement.importClause?.isTypeOnly === true);
        if (reExport || typeOnly) continue;
        const line = sf.getLineAndCharacterOfPosition(statement.getStart(sf)).line + 1;
        const text = statement.getText(sf).split('\n')[0]!.slice(0, 100);
        offenders.push(`${relative(root, file.path)}:${line} ${ts.SyntaxKind[statement.kind]}: ${text}`);
      }
    }
    expect(offenders, `statements other than re-exports in index.ts files:\n${offenders.join('\n')}`).toEqual([]);
  });
});
