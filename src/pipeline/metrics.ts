import { Gauge, Histogram, type Registry } from 'prom-client';

/** The scheduler's metrics, on the operator's registry. */
export class PipelineMetrics {
  readonly tasksInFlight: Gauge;
  readonly taskDuration: Histogram<'task_type' | 'result'>;

  constructor(registry: Registry) {
    this.tasksInFlight = new Gauge({
      name: 'startup_factory_tasks_in_flight',
      help: 'Task attempts running (or being started) across all startups.',
      registers: [registry],
    });
    this.taskDuration = new Histogram({
      name: 'startup_factory_task_duration_seconds',
      help: 'From a task\'s first attempt to its end, by task type and result.',
      labelNames: ['task_type', 'result'],
      buckets: [1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [registry],
    });
  }

  taskFinished(type: string, phase: 'Succeeded' | 'Failed', startedAt: string | undefined, finishedAt: string | undefined): void {
    const seconds = (Date.parse(finishedAt ?? '') - Date.parse(startedAt ?? '')) / 1000;
    if (Number.isFinite(seconds) && seconds >= 0) this.taskDuration.observe({ task_type: type, result: phase === 'Succeeded' ? 'success' : 'failure' }, seconds);
  }
}
