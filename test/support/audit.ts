/**
 * Who wrote, and when, as the API server's audit log tells it (the local cluster logs the
 * writes of pods' service accounts: cluster/up.ts). Each request of a pod's process carries
 * the pod it came from and the credential it used, and the pod runner mints a credential
 * per container start, so a writer here is one process: a container restarted in its pod
 * is a writer of its own. This is the proof that two replicas never write at once.
 */
import { readFile } from 'node:fs/promises';

export type AuditEvent = {
  verb: string;
  requestURI: string;
  user: { username: string; extra?: Record<string, string[]> };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string; apiGroup?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
};

/** One write request: by whom, on what, received at `from` and answered at `to` (ms). */
export type Write = { writer: string; pod: string; what: string; code: number; from: number; to: number };

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const POD_NAME = 'authentication.kubernetes.io/pod-name';
const CREDENTIAL = 'authentication.kubernetes.io/credential-id';

/**
 * The writes `username` made that could change what another replica reconciles: dry runs
 * store nothing, and two kinds of write are every replica's own business, left out so the
 * rest can be judged: campaigning for the Lease (the election itself, proven from the
 * Lease), and a replica labelling its own pod (each says at start that it does not lead).
 */
export function writesOf(events: readonly AuditEvent[], username: string): Write[] {
  const writes: Write[] = [];
  for (const e of events) {
    if (e.user.username !== username || !WRITE_VERBS.has(e.verb) || /[?&]dryRun=/.test(e.requestURI)) continue;
    const pod = e.user.extra?.[POD_NAME]?.[0] ?? '';
    const ref = e.objectRef ?? {};
    if (ref.resource === 'leases' && ref.apiGroup === 'coordination.k8s.io') continue;
    if (ref.resource === 'pods' && !ref.subresource && ref.name === pod) continue;
    writes.push({
      writer: `${pod} (credential ${e.user.extra?.[CREDENTIAL]?.[0] ?? '?'})`, pod,
      what: `${e.verb} ${ref.resource ?? ''}${ref.subresource ? `/${ref.subresource}` : ''} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name ?? ''}`,
      code: e.responseStatus?.code ?? 0, from: Date.parse(e.requestReceivedTimestamp), to: Date.parse(e.stageTimestamp),
    });
  }
  return writes.sort((a, b) => a.from - b.from);
}

/** A writer's span: from its first write's arrival to its last one's answer. */
export type Span = { writer: string; pod: string; from: number; to: number; writes: number };

export function spans(writes: readonly Write[]): Span[] {
  const byWriter = new Map<string, Span>();
  for (const w of writes) {
    const span = byWriter.get(w.writer);
    if (!span) byWriter.set(w.writer, { writer: w.writer, pod: w.pod, from: w.from, to: w.to, writes: 1 });
    else Object.assign(span, { from: Math.min(span.from, w.from), to: Math.max(span.to, w.to), writes: span.writes + 1 });
  }
  return [...byWriter.values()].sort((a, b) => a.from - b.from);
}

/**
 * Two writers at once: each write of one that falls within another's span, said in words
 * (none when the writers took turns: each began after the one before it had finished).
 */
export function overlaps(writes: readonly Write[]): string[] {
  const problems: string[] = [];
  const all = spans(writes);
  for (const span of all) {
    for (const w of writes) {
      if (w.writer !== span.writer && w.to >= span.from && w.from <= span.to) {
        problems.push(`${w.writer} wrote (${w.what}, ${new Date(w.from).toISOString()}) while ${span.writer} was writing (${new Date(span.from).toISOString()} to ${new Date(span.to).toISOString()})`);
      }
    }
  }
  return problems;
}

/** The longest time between one write's answer and the next write's arrival, within [from, to]. */
export function longestGap(writes: readonly Write[], from: number, to: number): { ms: number; after?: Write; before?: Write } {
  const within = writes.filter((w) => w.from >= from && w.to <= to);
  let longest: { ms: number; after?: Write; before?: Write } = { ms: 0 };
  let last: Write | undefined;
  let lastEnd = from;
  for (const w of within) {
    if (w.from - lastEnd > longest.ms) longest = { ms: w.from - lastEnd, ...(last ? { after: last } : {}), before: w };
    if (w.to > lastEnd) { lastEnd = w.to; last = w; }
  }
  if (to - lastEnd > longest.ms) longest = { ms: to - lastEnd, ...(last ? { after: last } : {}) };
  return longest;
}

/** The audit log's events of `username`, in the order they were written. */
export async function readAuditLog(file: string, username: string): Promise<AuditEvent[]> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new Error(`no audit log at ${file}: the kube-apiserver was started without cluster/up.ts's audit flags; restart it (kill it, then npm run cluster:up)`);
    throw err;
  });
  // Other runs' events share the file: only this user's lines are worth parsing.
  const quoted = JSON.stringify(username);
  return text.split('\n').filter((line) => line.includes(quoted)).map((line) => JSON.parse(line) as AuditEvent);
}
