/**
 * Node-port allocation over the operator's pool. Pure: the caller supplies every port
 * already held by other Startups (from their status and the in-process ledger), so the
 * same inputs always give the same answer and uniqueness reduces to "never hand out a
 * port in `taken`".
 */
export type PortPool = { first: number; last: number };

export type NodePortResult =
  | { ok: true; ports: Record<string, number> }
  | { ok: false; needed: number; free: number };

/**
 * Ports for `services` (by name). A service keeps the port it already holds (`current`)
 * so a reconcile never renumbers a live Service; new services take the lowest free ports.
 * All or nothing: when the pool cannot serve every service, nothing new is taken.
 */
export function allocateNodePorts(
  services: readonly string[],
  current: Readonly<Record<string, number>>,
  taken: ReadonlySet<number>,
  pool: PortPool,
): NodePortResult {
  const ports: Record<string, number> = {};
  const used = new Set(taken);
  const missing: string[] = [];
  for (const name of services) {
    const held = current[name];
    if (held !== undefined && held >= pool.first && held <= pool.last && !used.has(held)) {
      ports[name] = held;
      used.add(held);
    } else {
      missing.push(name);
    }
  }
  const free = countFree(used, pool);
  if (missing.length > free) return { ok: false, needed: missing.length, free };
  let candidate = pool.first;
  for (const name of missing) {
    while (used.has(candidate)) candidate++;
    ports[name] = candidate;
    used.add(candidate);
  }
  return { ok: true, ports: Object.fromEntries(services.map((name) => [name, ports[name]!])) };
}

function countFree(used: ReadonlySet<number>, pool: PortPool): number {
  let inPool = 0;
  for (const port of used) if (port >= pool.first && port <= pool.last) inPool++;
  return pool.last - pool.first + 1 - inPool;
}
