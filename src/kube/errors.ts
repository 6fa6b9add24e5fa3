/** A non-2xx answer from the API server, carrying its `Status` reason. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly body: unknown;

  constructor(code: number, message: string, reason = '', body?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.body = body;
  }
}

/** The HTTP status of an error from our client or from client-node's typed APIs (`ApiException`). */
export function statusCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

function reasonOf(err: unknown): string | undefined {
  if (err instanceof ApiError) return err.reason;
  const body = (err as { body?: unknown })?.body;
  const parsed = typeof body === 'string' ? safeJson(body) : body;
  return (parsed as { reason?: string } | undefined)?.reason;
}

function safeJson(text: string): unknown {
  try { return JSON.parse(text); } catch { return undefined; }
}

export const isNotFound = (err: unknown) => statusCode(err) === 404;
export const isGone = (err: unknown) => statusCode(err) === 410;
export const isInvalid = (err: unknown) => statusCode(err) === 422;
export const isAlreadyExists = (err: unknown) => statusCode(err) === 409 && reasonOf(err) === 'AlreadyExists';
/** 409 from a stale resourceVersion (or an SSA field conflict): re-read and try again. */
export const isConflict = (err: unknown) => statusCode(err) === 409 && reasonOf(err) !== 'AlreadyExists';

/**
 * Runs `attempt` until it does not fail with a conflict. `attempt` must re-read what it
 * writes each time (optimistic concurrency: resourceVersion is opaque, only ever echoed back).
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>, maxAttempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isConflict(err) || i >= maxAttempts) throw err;
    }
  }
}
