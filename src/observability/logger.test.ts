import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, startupLogger } from './logger.ts';

describe('logger', () => {
  it('writes one JSON object per line, with the startup name on child loggers', () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const log = createLogger({ level: 'info', destination: sink });
    startupLogger(log, 'acme').info({ phase: 'Running' }, 'phase changed');
    log.debug('hidden');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ level: 'info', startup: 'acme', phase: 'Running', msg: 'phase changed', service: 'startup-factory' });
    expect(typeof entry.time).toBe('string');
  });

  it('masks credentials passed under well-known names', () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const log = createLogger({ destination: sink });
    log.info({ apiKey: 'sk-live-1', request: { headers: { authorization: 'Bearer abc' } }, provider: { token: 't0k' } }, 'calling');
    expect(lines[0]).not.toMatch(/sk-live-1|Bearer abc|t0k/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ apiKey: '[redacted]', request: { headers: { authorization: '[redacted]' } }, provider: { token: '[redacted]' } });
  });
});
