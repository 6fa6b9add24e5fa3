/** `npm run crds`: writes crds/*.yaml from the zod schemas. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { renderCrdFiles } from './crds.ts';

const dir = new URL('../../crds/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const { file, yaml } of renderCrdFiles()) {
  writeFileSync(new URL(file, dir), yaml);
  process.stdout.write(`wrote crds/${file}\n`);
}
