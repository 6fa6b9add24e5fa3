import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CliError } from '../errors.ts';
import { run } from './crds.ts';

afterEach(() => { vi.restoreAllMocks(); });

describe('startup-factory crds', () => {
  it('prints the three CRDs as one YAML stream', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockReturnValue(true);
    expect(await run([])).toBe(0);
    const docs = parseAllDocuments(write.mock.calls.map((c) => String(c[0])).join('')).map((d) => d.toJS());
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'CustomResourceDefinition/startups.startupfactory.dev',
      'CustomResourceDefinition/startuptemplates.startupfactory.dev',
      'CustomResourceDefinition/aiproviders.startupfactory.dev',
    ]);
  });

  it('refuses arguments with a one-line error', async () => {
    await expect(run(['--out'])).rejects.toThrow(CliError);
  });
});
