import { API_GROUP_VERSION, type StartupTemplate } from '../api/index.ts';
import { TEMPLATE_STATUS } from '../api/status-owners.ts';
import type { Manager } from '../runtime/manager.ts';
import { validateTemplate, type TemplateValidation } from '../templates/index.ts';
import { getCondition } from '../api/conditions.ts';
import { objectKey, type Informer } from '../runtime/informer.ts';
import { applyOwnedStatus } from '../runtime/status.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { templateStatus } from './template-status.ts';

/**
 * Judges every StartupTemplate (its spec, parameter schema, and every file rendering for
 * a sample startup, in a worker under a deadline) and records the verdict in its status, so `kubectl get stpl` shows
 * which templates are usable and why not. A verdict is kept per generation: only a spec
 * change makes a template worth judging again.
 */
export function setupTemplateController(manager: Manager, templates: Informer<StartupTemplate>, clock: Clock = systemClock): void {
  const verdicts = new Map<string, { generation: number; validation: TemplateValidation }>();
  const controller = manager.controller({
    name: 'startuptemplate',
    reconcile: async (name) => {
      const template = templates.get(name);
      if (!template) {
        verdicts.delete(name);
        return;
      }
      const generation = template.metadata.generation ?? 0;
      let validation = verdicts.get(name)?.generation === generation ? verdicts.get(name)?.validation : undefined;
      if (!validation) {
        validation = await validateTemplate({ name, spec: template.spec });
        verdicts.set(name, { generation, validation });
      }
      const status = templateStatus(template.status, generation, validation, new Date(clock.now()));
      if (status === template.status) return;
      await applyOwnedStatus(manager.client, { apiVersion: API_GROUP_VERSION, kind: 'StartupTemplate', name }, TEMPLATE_STATUS, template.status, status);
      const before = getCondition(template.status?.conditions, 'Ready');
      const after = getCondition(status.conditions, 'Ready');
      if (after && after.status !== before?.status) {
        manager.events.record(template, { type: after.status === 'True' ? 'Normal' : 'Warning', reason: after.reason, action: 'Validate', note: after.message });
      }
    },
  });
  const enqueue = (t: StartupTemplate) => controller.enqueue(objectKey(t));
  templates.addHandlers({ add: enqueue, update: enqueue, delete: enqueue });
}
