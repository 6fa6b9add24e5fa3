import type { StatusOwnership } from '../api/status-owners.ts';
import type { KubeClient, KubeObject } from '../kube/client.ts';

/** A status as the writers see it: fields by name, conditions by type. */
type Status = { conditions?: readonly { type: string }[] } & Record<string, unknown>;

/** The fields and conditions of `status` that `ownership` covers, in a fixed order. */
export function ownedStatus(status: Status | undefined, ownership: StatusOwnership): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of ownership.fields) if (status?.[field] !== undefined) out[field] = status[field];
  if (ownership.conditionTypes.length > 0) {
    const conditions = ownership.conditionTypes
      .map((type) => status?.conditions?.find((c) => c.type === type))
      .filter((c) => c !== undefined);
    if (conditions.length > 0) out.conditions = conditions;
  }
  return out;
}

/** JSON with sorted keys, so key order (ours vs. the API server's) never looks like a change. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v);
}

/** Whether a writer's part differs between two statuses. */
export function ownedDiffers(before: Status | undefined, after: Status | undefined, ownership: StatusOwnership): boolean {
  return canonical(ownedStatus(before, ownership)) !== canonical(ownedStatus(after, ownership));
}

/**
 * Writes a writer's part of `next` by server-side apply of the status subresource, when it
 * differs from `current` (the cached object's status): a pass that changes nothing makes
 * no request. Fields the writer owned and no longer sends are removed by the API server,
 * which is how a condition or a field is dropped. Returns the object as written, or
 * undefined when there was nothing to write.
 */
export async function applyOwnedStatus<T extends KubeObject>(
  client: KubeClient,
  object: { apiVersion: string; kind: string; name: string; namespace?: string },
  ownership: StatusOwnership,
  current: Status | undefined,
  next: Status,
): Promise<T | undefined> {
  if (!ownedDiffers(current, next, ownership)) return undefined;
  return client.applyStatus<T>({
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: { name: object.name, ...(object.namespace ? { namespace: object.namespace } : {}) },
    status: ownedStatus(next, ownership),
  } as unknown as T, { fieldManager: ownership.fieldManager, force: true });
}
