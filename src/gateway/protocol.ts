/**
 * The wire contract between the AI gateway (in the operator) and `startup-factory task
 * run` (in each task Job). A Job knows two things: the gateway's URL and its attempt's
 * token; everything else it asks for here.
 */
import type { ProviderType } from '../api/index.ts';
import type { FailureKind } from '../pipeline/job.ts';
import type { TaskInput } from '../tasks/input.ts';
import type { WireFormat } from './metering.ts';

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
};

export type OutputReport = { output: unknown; provider: string; model: string; quality: number };

export type FailureReport = { kind: FailureKind; reason: string; message: string };
