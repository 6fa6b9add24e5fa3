/**
 * The contract between the operator (its scheduler and AI gateway) and `startup-factory
 * task run` (in each task Job), on its own so neither side imports the other. A Job
 * knows two things, from its environment: the gateway's URL and its attempt's token;
 * everything else it asks the gateway for; how it ended, its exit code says.
 */
import type { ProviderType } from '../api/index.ts';
import type { TaskInput } from '../tasks/input.ts';

/** Where the runner finds the gateway, and the Secret-held token of its attempt. */
export const GATEWAY_URL_ENV = 'SF_GATEWAY_URL';
export const TASK_TOKEN_ENV = 'SF_TASK_TOKEN';

/**
 * How `startup-factory task run` ends, which the Job's podFailurePolicy reads: a
 * transient failure lets the Job try another pod, every other failure ends the Job at
 * once (retrying cannot help, or the attempt must stop).
 */
export const ExitCode = {
  Succeeded: 0,
  /** Upstream trouble that may pass (429, 5xx, timeouts, resets) outlasted the retries. */
  Transient: 1,
  /** The runner was started wrong (no gateway URL or token): a bug in the Job, not in the task. */
  Usage: 2,
  /** 401, 403, 400, a refusal, or output that stays invalid: the task fails with a typed reason. */
  Permanent: 3,
  /** A budget ran out: the attempt stops cleanly and the task waits for the window to reset. */
  BudgetExceeded: 4,
  /** The gateway no longer accepts this attempt's token (it finished or was replaced). */
  Revoked: 5,
} as const;

export const JOB_ENDING_EXIT_CODES: readonly number[] = [ExitCode.Usage, ExitCode.Permanent, ExitCode.BudgetExceeded, ExitCode.Revoked];

/** How an attempt failed, as the runner reports it and the scheduler acts on it. */
export type FailureKind = 'permanent' | 'transient' | 'budget' | 'revoked';

/** The two wire formats the gateway speaks: OpenAI chat completions (also Perplexity, vLLM, Ollama...) and Anthropic messages. */
export type WireFormat = 'openai' | 'anthropic';

export const TASK_PATH = '/v1/task';
export const OUTPUT_PATH = '/v1/task/output';
export const FAILURE_PATH = '/v1/task/failure';
/** `/providers/<name>/v1/chat/completions` (OpenAI format) or `/providers/<name>/v1/messages` (Anthropic). */
export const PROVIDERS_PREFIX = '/providers/';

/** Set on every error the gateway makes itself, so a client tells them from an upstream's error passed through. */
export const GATEWAY_ERROR_HEADER = 'x-startupfactory-error';
/** On a budget refusal: when the spent window resets (RFC 3339). */
export const BUDGET_RESETS_HEADER = 'x-startupfactory-budget-resets-at';
/** On a budget refusal: which budget, `calls` or `cost`. */
export const BUDGET_KIND_HEADER = 'x-startupfactory-budget';

export type GatewayError =
  /** The token is not one the gateway issued, or its attempt is over: stop. */
  | 'invalid-token'
  /** A budget would be exceeded: stop cleanly, the pipeline resumes when the window resets. */
  | 'budget-exceeded'
  /** The provider is not one this task may use, or does not speak this format. */
  | 'provider-not-allowed'
  | 'bad-request'
  /** The upstream could not be reached: transient. */
  | 'upstream-unreachable'
  /** This replica does not lead, or the ledger could not be written: transient. */
  | 'unavailable'
  | 'not-found';

/** A provider the task may call, in the order to try them. */
export type ProviderOffer = {
  name: string;
  type: ProviderType;
  model: string;
  format: WireFormat;
  /** Path on the gateway to use as the SDK's base URL (the OpenAI SDK's must end in /v1). */
  basePath: string;
};

export type TaskAssignment = {
  input: TaskInput;
  attempt: number;
  providers: ProviderOffer[];
  /** Output tokens to ask for per call. */
  maxOutputTokens: number;
  /** How many times to ask again after an invalid answer. */
  reasks: number;
  /** A valid answer scoring below this (the task type's rubric, 0 to 1) is asked of the next provider too; the best one wins. */
  minQuality: number;
  /** How many more providers to ask after a valid answer below minQuality: each is a call of its own, against the budget. */
  qualityRetries: number;
};

/** One provider an attempt asked, as the runner saw it: evidence for the learning engine. */
export type ProviderTry = { provider: string; valid: boolean; quality: number };

export type OutputReport = { output: unknown; provider: string; model: string; quality: number; tried: ProviderTry[] };

export type FailureReport = { kind: FailureKind; reason: string; message: string; tried?: ProviderTry[] };
