import type Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import type { TaskType } from '../api/index.ts';
import type { ProviderOffer } from '../protocol/task.ts';
import type { Prompt } from '../tasks/prompts.ts';
import { estimateTokens } from '../tasks/context.ts';
import { TASK_OUTPUT_SCHEMAS } from '../tasks/schemas.ts';

/**
 * Below this, Anthropic does not cache a prompt prefix (the smaller models' minimum is
 * higher still), and a breakpoint would only make the gateway reserve a cache write.
 */
const MIN_CACHED_TOKENS = 1_024;


/** One model answer: the JSON text of the output, and what came with it. */
export type Answer = { text: string; model: string; refusal?: string; citations: { title: string; url: string }[] };

export type CallOptions = {
  gatewayUrl: string;
  token: string;
  type: TaskType;
  maxOutputTokens: number;
  timeoutMs: number;
  /** JSON mode instead of json_schema, for OpenAI-compatible servers that have no structured output. */
  jsonMode?: boolean;
};

/**
 * Asks a provider for a task's output through the gateway, with the official SDK of its
 * wire format pointed at the gateway (the token is the SDK's API key; the real key
 * never leaves the operator), using the format's structured output: OpenAI's
 * `response_format` json_schema built from the task type's zod schema, Anthropic's
 * forced tool whose `input_schema` is that schema. Streamed, so a long answer keeps the
 * connection busy and the gateway meters it as it passes. The SDKs' own retries are off:
 * which errors to retry is the runner's decision (see classify.ts).
 */
export async function askModel(offer: ProviderOffer, prompt: Prompt, o: CallOptions): Promise<Answer> {
  return offer.format === 'anthropic' ? askAnthropic(offer, prompt, o) : askOpenAI(offer, prompt, o);
}

// Each SDK takes a tenth of a second to load, and a task process uses one at most: load it when used.
async function askOpenAI(offer: ProviderOffer, prompt: Prompt, o: CallOptions): Promise<Answer> {
  const [{ default: OpenAI }, { zodResponseFormat }] = await Promise.all([import('openai'), import('openai/helpers/zod')]);
  const client = new OpenAI({ apiKey: o.token, baseURL: `${o.gatewayUrl}${offer.basePath}`, maxRetries: 0, timeout: o.timeoutMs });
  const format = zodResponseFormat(TASK_OUTPUT_SCHEMAS[o.type], o.type);
  // One system message (some compatible servers refuse a second), the shared context after the
  // instructions: a prefix the same for every task of a startup, which OpenAI's prompt caching reuses.
  const instructions = o.jsonMode
    ? `${prompt.system}\n\nAnswer with one JSON object matching this JSON Schema:\n${JSON.stringify(format.json_schema.schema)}`
    : prompt.system;
  const system = prompt.context ? `${instructions}\n\n${prompt.context}` : instructions;
  // The chunks as they come, put together here: the SDK's stream helper parses a json_schema
  // answer itself (a plain copy of the format included) and throws a SyntaxError on one that
  // is not JSON, which the runner would take for a lost connection and send again word for
  // word; the runner validates the answer and asks again with what was wrong.
  const stream = await client.chat.completions.create({
    model: offer.model,
    messages: [{ role: 'system', content: system }, { role: 'user', content: prompt.user }],
    response_format: o.jsonMode ? { type: 'json_object' } : { type: 'json_schema', json_schema: format.json_schema },
    ...(offer.type === 'openai' ? { max_completion_tokens: o.maxOutputTokens } : { max_tokens: o.maxOutputTokens }),
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let refusal = '';
  let model = '';
  let finished = false;
  // Perplexity sends its sources as top-level fields of a chunk (the last, with the usage).
  const extra: { citations?: unknown; search_results?: unknown } = {};
  for await (const chunk of stream) {
    model ||= chunk.model;
    const choice = chunk.choices[0];
    text += choice?.delta?.content ?? '';
    refusal += choice?.delta?.refusal ?? '';
    if (choice?.finish_reason) finished = true;
    const fields = chunk as unknown as typeof extra;
    if (fields.citations !== undefined) extra.citations = fields.citations;
    if (fields.search_results !== undefined) extra.search_results = fields.search_results;
  }
  // A stream that ends before its answer did was cut: no status, so it is retried like a lost connection.
  if (!finished) throw new Error('the answer\'s stream ended before the answer did');
  return {
    text,
    model: model || offer.model,
    ...(refusal ? { refusal } : {}),
    citations: citationsOf(extra.search_results, extra.citations),
  };
}

async function askAnthropic(offer: ProviderOffer, prompt: Prompt, o: CallOptions): Promise<Answer> {
  const { default: Anthropic } = await import('@anthropic-ai/sdk');
  const client = new Anthropic({ apiKey: o.token, baseURL: `${o.gatewayUrl}${offer.basePath}`, maxRetries: 0, timeout: o.timeoutMs });
  const { $schema: _dialect, ...schema } = z.toJSONSchema(TASK_OUTPUT_SCHEMAS[o.type]) as Record<string, unknown>;
  const tool = `submit_${o.type}`;
  const stream = client.messages.stream({
    model: offer.model,
    max_tokens: o.maxOutputTokens,
    // The shared context is a system block of its own, a cache breakpoint when it is long enough to be cached.
    system: [
      { type: 'text', text: prompt.system },
      ...(prompt.context ? [{
        type: 'text' as const, text: prompt.context,
        ...(estimateTokens(prompt.context) >= MIN_CACHED_TOKENS ? { cache_control: { type: 'ephemeral' as const } } : {}),
      }] : []),
    ],
    messages: [{ role: 'user', content: prompt.user }],
    tools: [{ name: tool, description: `Submit the ${o.type} output.`, input_schema: schema as Anthropic.Tool.InputSchema }],
    tool_choice: { type: 'tool', name: tool },
  });
  const message = await stream.finalMessage();
  const use = message.content.find((b) => b.type === 'tool_use');
  const text = message.content.filter((b) => b.type === 'text').map((b) => (b as { text: string }).text).join('');
  return {
    text: use ? JSON.stringify(use.input) : text,
    model: message.model || offer.model,
    ...(message.stop_reason === 'refusal' ? { refusal: text || 'the model refused' } : {}),
    citations: [],
  };
}

/** Perplexity's sources: `search_results` with titles when present, else bare `citations` URLs. */
function citationsOf(results: unknown, urls: unknown): { title: string; url: string }[] {
  if (Array.isArray(results)) {
    return results
      .filter((r): r is { title?: unknown; url: unknown } => typeof r === 'object' && r !== null && typeof (r as { url?: unknown }).url === 'string')
      .map((r) => ({ title: typeof r.title === 'string' && r.title ? r.title : String(r.url), url: String(r.url) }));
  }
  if (Array.isArray(urls)) return urls.filter((u): u is string => typeof u === 'string').map((url) => ({ title: url, url }));
  return [];
}
