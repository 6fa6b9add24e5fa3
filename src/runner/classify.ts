import { retryAfterMs } from '../lib/retry-after.ts';
import { GATEWAY_ERROR_HEADER } from '../protocol/task.ts';

/**
 * What a failed call means for the attempt, each with its own answer (one retry policy
 * for every error would retry a 401 and give up on a 429):
 * - transient: try again after a backoff (or the Retry-After given), then the next provider;
 * - next-provider: this provider will not do (not allowed, not Ready), try the next at once;
 * - permanent: retrying cannot help (401, 403, 400, a refusal): the task fails now, typed;
 * - budget: the startup's budget is spent: stop cleanly, the pipeline resumes later;
 * - revoked: the gateway no longer knows this attempt: stop.
 */
export type Classified =
  | { kind: 'transient'; reason: string; message: string; retryAfterMs?: number }
  | { kind: 'next-provider'; reason: string; message: string }
  | { kind: 'permanent'; reason: string; message: string }
  | { kind: 'budget'; reason: 'BudgetExceeded'; message: string }
  | { kind: 'revoked'; reason: 'TokenRevoked'; message: string };

type HeaderBag = Headers | Record<string, string | string[] | undefined> | undefined;

function headerOf(headers: HeaderBag, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The first line of an error, without the SDKs' JSON bodies and stack noise. */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]!.slice(0, 500);
}

/**
 * Classifies what the official SDKs (or fetch) threw. Errors the gateway makes itself
 * carry GATEWAY_ERROR_HEADER; everything else is the upstream's answer passed through.
 */
export function classify(err: unknown, now = Date.now()): Classified {
  const e = err as { status?: unknown; headers?: HeaderBag; name?: string; cause?: unknown };
  const status = typeof e?.status === 'number' ? e.status : undefined;
  const message = describe(err);
  if (status === undefined) {
    // No HTTP answer: a reset, a refused connection, a timeout, a stream cut half-way.
    return { kind: 'transient', reason: 'ConnectionFailed', message };
  }
  const gateway = headerOf(e.headers, GATEWAY_ERROR_HEADER);
  const retryAfter = headerOf(e.headers, 'retry-after-ms') !== undefined
    ? Number(headerOf(e.headers, 'retry-after-ms'))
    : headerOf(e.headers, 'retry-after') !== undefined ? retryAfterMs(headerOf(e.headers, 'retry-after'), now) : undefined;
  const transient = (reason: string) => ({ kind: 'transient' as const, reason, message, ...(retryAfter !== undefined && Number.isFinite(retryAfter) ? { retryAfterMs: retryAfter } : {}) });
  switch (gateway) {
    case 'invalid-token': return { kind: 'revoked', reason: 'TokenRevoked', message };
    case 'budget-exceeded': return { kind: 'budget', reason: 'BudgetExceeded', message };
    case 'provider-not-allowed': return { kind: 'next-provider', reason: 'ProviderNotAllowed', message };
    case 'bad-request': return { kind: 'permanent', reason: 'BadRequest', message };
    case 'upstream-unreachable': return transient('UpstreamUnreachable');
    case 'unavailable': return transient('GatewayUnavailable');
    case 'not-found': return { kind: 'permanent', reason: 'BadRequest', message };
    default: break;
  }
  if (status === 401) return { kind: 'permanent', reason: 'Unauthorized', message };
  if (status === 403) return { kind: 'permanent', reason: 'Forbidden', message };
  if (status === 404) return { kind: 'permanent', reason: 'ModelNotFound', message };
  if (status === 402) return { kind: 'permanent', reason: 'PaymentRequired', message };
  if (status === 429) return transient('RateLimited');
  if (status === 408 || status === 409 || status >= 500) return transient(status === 529 ? 'Overloaded' : 'UpstreamError');
  return { kind: 'permanent', reason: 'BadRequest', message };
}
