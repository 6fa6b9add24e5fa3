import { describe, expect, it } from 'vitest';
import { Metrics } from './metrics.ts';

describe('Metrics', () => {
  it('counts Startups by phase at scrape time, dropping phases nobody is in', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    let startups = [{ status: { phase: 'Running' } }, { status: { phase: 'Running' } }, { status: { phase: 'Queued' } }, {}];
    metrics.trackStartupPhases(() => startups);
    let text = await metrics.registry.metrics();
    expect(text).toContain('startup_factory_startups{phase="Running"} 2');
    expect(text).toContain('startup_factory_startups{phase="Queued"} 1');
    expect(text).toContain('startup_factory_startups{phase="Unknown"} 1');
    startups = [{ status: { phase: 'Succeeded' } }];
    text = await metrics.registry.metrics();
    expect(text).not.toContain('phase="Running"');
    expect(text).toContain('startup_factory_startups{phase="Succeeded"} 1');
  });

  it('reports each watch\'s health at scrape time', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    let secretsHealthy = false;
    metrics.trackInformerHealth('Startup', '', () => true);
    metrics.trackInformerHealth('Secret', 'app=x', () => secretsHealthy);
    let text = await metrics.registry.metrics();
    expect(text).toContain('startup_factory_informer_healthy{kind="Startup",selector=""} 1');
    expect(text).toContain('startup_factory_informer_healthy{kind="Secret",selector="app=x"} 0');
    secretsHealthy = true;
    text = await metrics.registry.metrics();
    expect(text).toContain('startup_factory_informer_healthy{kind="Secret",selector="app=x"} 1');
  });

  it('registers the default process metrics unless told not to', async () => {
    expect(await new Metrics().registry.metrics()).toContain('process_cpu_user_seconds_total');
    expect(await new Metrics({ defaultMetrics: false }).registry.metrics()).not.toContain('process_cpu_user_seconds_total');
  });
});
