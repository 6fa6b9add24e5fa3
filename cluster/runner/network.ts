import { createHash } from 'node:crypto';

/**
 * The node's address, and so every pod's hostIP: the host's loopback, where the API server
 * and the node ports are.
 */
export const NODE_IP = '127.0.0.1';

/**
 * A pod's own address. Pods here share the host's network, so replicas of one Deployment
 * would fight over their ports on one address; Linux routes all of 127.0.0.0/8 to the
 * loopback, so each pod gets an address of its own in it instead, as it would get one of
 * its own network namespace. Drawn from the pod's uid (stable across status writes),
 * outside 127.0.0.0/16 (the host's own services), the next free one on a collision.
 */
export function podAddress(uid: string, taken: ReadonlySet<string>): string {
  const [a = 0, b = 0, c = 0] = createHash('sha256').update(uid).digest();
  // 127.1.0.1 to 127.254.255.254: 254 × 256 × 254 addresses, none ending in .0 or .255.
  const size = 254 * 256 * 254;
  const start = ((a << 16) | (b << 8) | c) % size;
  for (let i = 0; i < size; i++) {
    const n = (start + i) % size;
    const address = `127.${1 + Math.floor(n / (256 * 254))}.${Math.floor(n / 254) % 256}.${1 + (n % 254)}`;
    if (!taken.has(address)) return address;
  }
  throw new Error('no loopback address left for a pod');
}
