import type { StartupTemplateStatus } from '../api/index.ts';
import { ConditionType, setCondition } from '../api/conditions.ts';
import type { TemplateValidation } from '../templates/index.ts';

/**
 * A StartupTemplate's status from its validation: `Ready` with the reason it is not
 * usable, the number of files, the generation judged. The same object when nothing
 * changed, so the caller writes only on a change.
 */
export function templateStatus(current: StartupTemplateStatus | undefined, generation: number, validation: TemplateValidation, now: Date): StartupTemplateStatus {
  const ready = validation.ok
    ? { type: ConditionType.Ready, status: 'True' as const, reason: 'Valid', message: `${validation.fileCount} files; every file renders`, observedGeneration: generation }
    : { type: ConditionType.Ready, status: 'False' as const, reason: validation.reason, message: validation.message.slice(0, 4096), observedGeneration: generation };
  // Only a change to the template helps an invalid one: Stalled, which kstatus (Flux, kpt) reads as Failed at once.
  const stalled = validation.ok
    ? { type: ConditionType.Stalled, status: 'False' as const, reason: 'Valid', message: 'the template is valid', observedGeneration: generation }
    : { ...ready, type: ConditionType.Stalled, status: 'True' as const };
  const conditions = setCondition(setCondition(current?.conditions, ready, now), stalled, now);
  const fileCount = validation.ok ? validation.fileCount : current?.fileCount;
  if (current && conditions === current.conditions && current.observedGeneration === generation && current.fileCount === fileCount) return current;
  return { ...current, observedGeneration: generation, conditions, ...(fileCount === undefined ? {} : { fileCount }) };
}
