import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskType } from '../api/index.ts';
import {
  ExitCode, FAILURE_PATH, GATEWAY_ERROR_HEADER, GATEWAY_URL_ENV, OUTPUT_PATH, TASK_PATH, TASK_TOKEN_ENV,
  type FailureReport, type OutputReport, type ProviderOffer, type ProviderTry, type TaskAssignment,
} from '../protocol/task.ts';
import { backoffDelay } from '../lib/rate-limit.ts';
import type { Logger } from '../observability/logger.ts';
import { renderPrompt, type Prompt } from '../tasks/prompts.ts';
import { scoreOutput } from '../tasks/rubric.ts';
import type { TaskOutput } from '../tasks/schemas.ts';
import { validateOutput } from '../tasks/validate.ts';
import { classify, type Classified } from './classify.ts';
import { askModel, type Answer } from './models.ts';

export type RunnerSettings = {
  /** Calls per provider for transient failures before falling back to the next one. */
  transientRetries: number;
  backoff: { baseMs: number; maxMs: number };
  /** The longest Retry-After honoured; a longer one moves on to the next provider instead. */
  maxRetryAfterMs: number;
  callTimeoutMs: number;
  /** How long the gateway may be unreachable (a failover) before the attempt gives up. */
  gatewayPatienceMs: number;
};

export const DEFAULT_SETTINGS: RunnerSettings = {
  transientRetries: 3,
  backoff: { baseMs: 1_000, maxMs: 20_000 },
  maxRetryAfterMs: 60_000,
  callTimeoutMs: 600_000,
  gatewayPatienceMs: 120_000,
};

type Outcome =
  | { ok: true; output: TaskOutput; provider: string; model: string }
  | { ok: false; failure: Classified | { kind: 'invalid'; reason: 'InvalidOutput'; message: string } };

class GatewayRefusal extends Error {
  readonly status: number;
  readonly code: string | undefined;
  constructor(status: number, code: string | undefined, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * `startup-factory task run`, the body of every task Job: fetch the attempt's input from
 * the gateway, render the task type's prompt, ask the providers in the offered order
 * (transient failures retried with backoff and jitter, honouring Retry-After, then the
 * next provider; permanent ones fail at once), validate the answer against the type's
 * schema (asking again, with the problems named, a bounded number of times), score it
 * (an answer below the quality threshold is asked of the next provider too, and the best
 * one wins), and post it back with what each provider it asked gave. The exit code tells the Job's podFailurePolicy what happened.
 */
export async function runTask(env: NodeJS.ProcessEnv, log: Logger, settings: RunnerSettings = DEFAULT_SETTINGS): Promise<number> {
  const gatewayUrl = env[GATEWAY_URL_ENV]?.replace(/\/+$/, '');
  const token = env[TASK_TOKEN_ENV];
  if (!gatewayUrl || !token) {
    log.error(`${GATEWAY_URL_ENV} and ${TASK_TOKEN_ENV} must be set: the task runs inside a pipeline Job`);
    return ExitCode.Usage;
  }
  const gateway = new GatewayClient(gatewayUrl, token, settings);
  let assignment: TaskAssignment;
  try {
    assignment = await gateway.get<TaskAssignment>(TASK_PATH);
  } catch (err) {
    return stopFor(err, log);
  }
  const { input } = assignment;
  const type = input.task.type;
  const tlog = log.child({ startup: input.startup.name, task: input.task.name, attempt: assignment.attempt });
  const report = async (failure: FailureReport, code: number): Promise<number> => {
    tlog.error({ reason: failure.reason, kind: failure.kind }, failure.message);
    await gateway.post(FAILURE_PATH, failure).catch((err: unknown) => tlog.warn({ err }, 'could not report the failure to the gateway'));
    return code;
  };

  let prompt: Prompt;
  try {
    prompt = renderPrompt(input);
  } catch (err) {
    return report({ kind: 'permanent', reason: 'InvalidPrompt', message: (err as Error).message }, ExitCode.Permanent);
  }
  if (assignment.providers.length === 0) {
    return report({ kind: 'transient', reason: 'NoReadyProvider', message: 'no Ready provider was offered for this task' }, ExitCode.Transient);
  }

  let last: Extract<Outcome, { ok: false }>['failure'] | undefined;
  let best: (Extract<Outcome, { ok: true }> & { quality: number }) | undefined;
  const tried: ProviderTry[] = [];
  for (const offer of assignment.providers) {
    const outcome = await askProvider(offer, prompt, assignment, { gatewayUrl, token }, settings, tlog);
    if (outcome.ok) {
      const quality = scoreOutput(type, outcome.output, input);
      tried.push({ provider: offer.name, valid: true, quality });
      if (!best || quality > best.quality) best = { ...outcome, quality };
      const asked = tried.filter((t) => t.valid).length;
      if (quality >= assignment.minQuality || asked > assignment.qualityRetries) break;
      tlog.warn({ provider: offer.name, quality, minQuality: assignment.minQuality }, 'the answer scores below the threshold; asking the next provider too');
      continue;
    }
    last = outcome.failure;
    tried.push({ provider: offer.name, valid: false, quality: 0 });
    // With a valid answer in hand, a provider that cannot do better only ends the search.
    if (best && last.kind !== 'revoked') break;
    switch (last.kind) {
      case 'permanent':
        return report({ kind: 'permanent', reason: last.reason, message: `${offer.name}: ${last.message}`, tried }, ExitCode.Permanent);
      case 'budget':
        return report({ kind: 'budget', reason: last.reason, message: last.message, tried }, ExitCode.BudgetExceeded);
      case 'revoked':
        tlog.warn(last.message);
        return ExitCode.Revoked;
      default:
        tlog.warn({ provider: offer.name, reason: last.reason }, `${offer.name} did not give an output: ${last.message}; trying the next provider`);
    }
  }
  if (best) {
    try {
      await gateway.post(OUTPUT_PATH, { output: best.output, provider: best.provider, model: best.model, quality: best.quality, tried } satisfies OutputReport);
    } catch (err) {
      if (err instanceof GatewayRefusal && err.status === 422) {
        return report({ kind: 'permanent', reason: 'InvalidOutput', message: err.message, tried }, ExitCode.Permanent);
      }
      return stopFor(err, tlog);
    }
    tlog.info({ provider: best.provider, model: best.model, quality: best.quality }, 'output stored');
    return ExitCode.Succeeded;
  }
  if (last?.kind === 'invalid') return report({ kind: 'permanent', reason: last.reason, message: last.message, tried }, ExitCode.Permanent);
  return report({ kind: 'transient', reason: last?.reason ?? 'NoOutput', message: last?.message ?? 'no provider gave an output', tried }, ExitCode.Transient);
}

/** One provider: transient errors retried, invalid answers asked again with what was wrong. */
async function askProvider(
  offer: ProviderOffer, prompt: Prompt, assignment: TaskAssignment, auth: { gatewayUrl: string; token: string }, settings: RunnerSettings, log: Logger,
): Promise<Outcome> {
  const type = assignment.input.task.type;
  let jsonMode = false;
  let retries = 0;
  let unreachableSince: number | undefined;
  let waits = 0;
  let asked = prompt;
  for (let ask = 0; ask <= assignment.reasks;) {
    let answer: Answer;
    try {
      answer = await askModel(offer, asked, {
        ...auth, type, maxOutputTokens: assignment.maxOutputTokens, timeoutMs: settings.callTimeoutMs, jsonMode,
      });
    } catch (err) {
      const c = classify(err);
      if (c.kind === 'permanent' && offer.type === 'openai-compatible' && !jsonMode && /response_format|json_schema/i.test(c.message)) {
        // A compatible server without structured output: JSON mode, with the schema in the prompt.
        jsonMode = true;
        continue;
      }
      if (c.kind !== 'transient') return { ok: false, failure: c };
      if (c.reason === 'ConnectionFailed') {
        // No answer at all: the gateway itself is away (a restart, a failover). Wait for it
        // rather than spend this provider's retries on it, as long as it may take.
        unreachableSince ??= Date.now();
        if (Date.now() - unreachableSince < settings.gatewayPatienceMs) {
          const wait = backoffDelay(Math.min(waits++, 4), { ...settings.backoff, jitter: 0.5 });
          log.warn({ provider: offer.name, retryInMs: wait }, `no answer from the gateway: ${c.message}`);
          await sleep(wait);
          continue;
        }
        return { ok: false, failure: c };
      }
      unreachableSince = undefined;
      waits = 0;
      const wait = c.retryAfterMs ?? backoffDelay(retries, { ...settings.backoff, jitter: 0.5 });
      if (retries >= settings.transientRetries || wait > settings.maxRetryAfterMs) return { ok: false, failure: c };
      retries++;
      log.warn({ provider: offer.name, reason: c.reason, retryInMs: wait }, `transient failure: ${c.message}`);
      await sleep(wait);
      continue;
    }
    if (answer.refusal) return { ok: false, failure: { kind: 'permanent', reason: 'ContentRefused', message: answer.refusal.slice(0, 500) } };
    const checked = check(type, answer, assignment);
    if (checked.ok) return { ok: true, output: checked.output, provider: offer.name, model: answer.model };
    ask++;
    log.warn({ provider: offer.name, issues: checked.issues }, 'the answer does not validate; asking again');
    if (ask > assignment.reasks) {
      return { ok: false, failure: { kind: 'invalid', reason: 'InvalidOutput', message: `${offer.name}: ${checked.issues.slice(0, 5).join('; ')}` } };
    }
    asked = {
      ...prompt,
      user: `${prompt.user}\n\nYour previous answer was not valid:\n${checked.issues.map((i) => `- ${i}`).join('\n')}\n\nPrevious answer:\n${answer.text.slice(0, 20_000)}\n\nAnswer again with the corrected JSON object only.`,
    };
  }
  return { ok: false, failure: { kind: 'invalid', reason: 'InvalidOutput', message: `${offer.name}: no valid answer` } };
}

/** Parses and validates an answer; a research answer keeps the sources the provider cited (Perplexity). */
function check(type: TaskType, answer: Answer, assignment: TaskAssignment): { ok: true; output: TaskOutput } | { ok: false; issues: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(answer.text);
  } catch {
    return { ok: false, issues: ['the answer is not a JSON object'] };
  }
  if (type === 'research' && answer.citations.length > 0 && typeof value === 'object' && value !== null) {
    const research = value as { sources?: { title: string; url: string }[] };
    const known = new Set((research.sources ?? []).map((s) => s.url));
    research.sources = [...(research.sources ?? []), ...answer.citations.filter((c) => !known.has(c.url))];
  }
  if (type === 'codegen' && typeof value === 'object' && value !== null && assignment.input.task.workItem) {
    // The item is known here for certain; the model's copy of its id is not trusted.
    (value as { workItem?: string }).workItem = assignment.input.task.workItem.id;
  }
  const result = validateOutput(type, value);
  return result.ok ? { ok: true, output: result.output } : { ok: false, issues: result.issues };
}

/** Why the attempt must stop when the gateway refuses it or cannot be reached for long. */
function stopFor(err: unknown, log: Logger): number {
  if (err instanceof GatewayRefusal && err.code === 'invalid-token') {
    log.warn('the gateway no longer accepts this attempt\'s token');
    return ExitCode.Revoked;
  }
  log.error({ err }, 'the gateway could not be reached');
  return ExitCode.Transient;
}

/**
 * The task's side of the gateway protocol (input, output, failure). A gateway that does
 * not answer, or answers 5xx, is waited for: a failover moves it to another replica
 * within seconds, and the attempt should outlive that.
 */
class GatewayClient {
  readonly #url: string;
  readonly #token: string;
  readonly #settings: RunnerSettings;

  constructor(url: string, token: string, settings: RunnerSettings) {
    this.#url = url;
    this.#token = token;
    this.#settings = settings;
  }

  get<T>(path: string): Promise<T> {
    return this.#request<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.#request<T>('POST', path, body);
  }

  async #request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const deadline = Date.now() + this.#settings.gatewayPatienceMs;
    for (let attempt = 0; ; attempt++) {
      let res: Response | undefined;
      try {
        res = await fetch(`${this.#url}${path}`, {
          method,
          headers: { authorization: `Bearer ${this.#token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(60_000),
        });
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      if (res && res.status < 500) {
        const text = await res.text();
        if (res.ok) return JSON.parse(text) as T;
        const parsed = (() => { try { return JSON.parse(text) as { error?: { message?: string } }; } catch { return undefined; } })();
        throw new GatewayRefusal(res.status, res.headers.get(GATEWAY_ERROR_HEADER) ?? undefined, parsed?.error?.message ?? text.slice(0, 500));
      }
      if (res) await res.text();
      if (Date.now() > deadline) throw new GatewayRefusal(res?.status ?? 503, 'unavailable', `the gateway answered ${res?.status}`);
      await sleep(backoffDelay(attempt, { baseMs: 500, maxMs: 5_000, jitter: 0.5 }));
    }
  }
}
