/**
 * A local stand-in for the upstream AI providers: an HTTP server speaking the wire protocols of
 * OpenAI chat completions (also Perplexity's), and Anthropic messages, streamed or not, with
 * scriptable faults. Integration tests point the gateway's upstream URLs at it, so the official
 * SDKs in the task runner and the gateway's raw HTTP forwarding both meet the real formats.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type Protocol = 'openai' | 'anthropic';

export type FixtureRequest = {
  protocol: Protocol;
  /** The URL path, without the query string. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body. */
  body: any;
  /** The body as it arrived: what a caller's worst-case estimate is made from. */
  raw: string;
  /** The body's `stream` is true. */
  stream: boolean;
  /** Position in `AiFixture.requests`, from 0. */
  index: number;
  /**
   * How the answer went, once its response is over: the status sent, whether the body went
   * out to its end (not cut by a fault, by the client giving up, or by `down()`), and the
   * usage it reported (a 200 whose usage was sent). A test prices what the upstream billed from it.
   */
  response?: { status: number; complete: boolean; usage?: { inputTokens: number; outputTokens: number } };
};

export type Fault =
  /** An error response in the provider's error format, or `body` verbatim; `retry-after` only when given. */
  | { kind: 'status'; status: number; retryAfterSeconds?: number; body?: unknown }
  /** The connection is reset before any response byte. */
  | { kind: 'reset' }
  /** A normal answer, after `delayMs` more. */
  | { kind: 'slow'; delayMs: number }
  /**
   * A streamed answer stops after its first `afterChunks` SSE events (so without the usage chunk,
   * `[DONE]` or `message_stop`) and the socket is destroyed. A non-streamed answer stops halfway
   * through its JSON body.
   */
  | { kind: 'cut-stream'; afterChunks: number }
  /** A 200 whose content is the reply's content cut in half: truncated JSON for a JSON reply. */
  | { kind: 'malformed' };

export type Reply = {
  /** The assistant text or, when an Anthropic request forces a tool, the JSON text of the tool input. */
  content: string;
  /** Default: ceil(JSON.stringify(request messages).length / 4). */
  inputTokens?: number;
  /** Default: ceil(content.length / 4). */
  outputTokens?: number;
  /** Extra top-level fields of the completion or message, e.g. Perplexity's `citations` and `search_results`. */
  extra?: Record<string, unknown>;
};

export type FixtureOptions = {
  /** The answer to each call that gets no fault. Default: `{"echo": <the last message's content>}`. */
  reply?: (req: FixtureRequest) => Reply | Promise<Reply>;
  /** A fault for this call, or undefined for a normal answer. Asked only once the request passed the key check. */
  fault?: (req: FixtureRequest) => Fault | undefined;
  /** The expected API key: a request without it gets a 401 in the provider's error format. */
  apiKey?: string;
  /** Latency added to every response, errors included (ms). */
  latencyMs?: number;
};

const ROUTES: Record<string, Protocol> = {
  '/v1/chat/completions': 'openai', // the OpenAI SDK's baseURL ends in /v1
  '/chat/completions': 'openai', // Perplexity's base URL, https://api.perplexity.ai, has no /v1
  '/v1/messages': 'anthropic', // the Anthropic SDK's baseURL has no /v1
};

export class AiFixture {
  /** Read at each request, so a test may change them between calls. */
  options: FixtureOptions;
  /** Every routed request, in arrival order, faulted and rejected ones included. */
  requests: FixtureRequest[] = [];
  /** The most requests in flight at once since start or the last `reset()`. */
  maxInFlight = 0;
  /** TCP connections accepted since start: fewer than requests when clients keep connections alive. */
  connections = 0;
  #inFlight = 0;
  readonly #requestOf = new WeakMap<ServerResponse, FixtureRequest>();
  #server: Server;
  #url: string | undefined;
  #port = 0;
  /** The usage each answer reported, until its response is over. */
  readonly #usage = new WeakMap<FixtureRequest, { inputTokens: number; outputTokens: number }>();

  constructor(options: FixtureOptions = {}) {
    this.options = options;
    this.#server = createServer((req, res) => this.#track(req, res));
    this.#server.on('connection', () => this.connections++);
  }

  /** `http://127.0.0.1:<port>`, once started. */
  get url(): string {
    if (this.#url === undefined) throw new Error('AiFixture is not started');
    return this.#url;
  }

  async start(): Promise<void> {
    await this.#listen(0);
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#url = `http://127.0.0.1:${this.#port}`;
  }

  async close(): Promise<void> {
    if (!this.#server.listening) return;
    // The SDKs keep connections alive, and close() alone waits for idle ones to time out.
    this.#server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.#server.close((error) => (error ? reject(error) : resolve())));
  }

  /**
   * The provider goes down: nothing listens on its port any more, so a connection is
   * refused (ECONNREFUSED, as a host that is up with its service down answers), and the
   * connections open now are cut (a client that writes on a kept-alive one before it sees
   * the close gets a socket error, not a refusal). `up()` brings it back on the same URL.
   */
  down(): Promise<void> {
    return this.close();
  }

  /** Listens again on the port it had, after `down()`. */
  async up(): Promise<void> {
    if (!this.#server.listening) await this.#listen(this.#port);
  }

  #listen(port: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  /** Requests received whose response has not finished or been cut yet. */
  inFlight(): number {
    return this.#inFlight;
  }

  /** Forgets the recorded requests and restarts `maxInFlight` from the requests now in flight. */
  reset(): void {
    this.requests = [];
    this.maxInFlight = this.#inFlight;
  }

  #track(req: IncomingMessage, res: ServerResponse): void {
    this.#inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
    // 'close' fires once per response, whether it ended, was cut, or the client went away.
    res.once('close', () => {
      this.#inFlight--;
      const request = this.#requestOf.get(res);
      if (!request) return;
      const usage = this.#usage.get(request);
      // writableFinished: the whole body was handed to the socket; a cut or abandoned answer never gets there.
      request.response = { status: res.statusCode, complete: res.headersSent && res.writableFinished, ...(usage && res.writableFinished ? { usage } : {}) };
    });
    this.#handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      const protocol = ROUTES[pathOf(req)] ?? 'openai';
      void sendJson(res, protocol, 500, errorBody(protocol, 500, `AiFixture failed: ${String(error)}`));
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const path = pathOf(req);
    const protocol = req.method === 'POST' ? ROUTES[path] : undefined;
    if (protocol === undefined) {
      return sendJson(res, 'openai', 404, errorBody('openai', 404, `Invalid URL (${req.method} ${path})`));
    }
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      return sendJson(res, protocol, 400, errorBody(protocol, 400, 'The request body is not valid JSON.'));
    }
    const request: FixtureRequest = { protocol, path, headers: req.headers, body, raw, stream: body?.stream === true, index: this.requests.length };
    this.requests.push(request);
    this.#requestOf.set(res, request);

    const rejection = this.#reject(request);
    const fault = rejection ? undefined : this.options.fault?.(request);
    await sleep((this.options.latencyMs ?? 0) + (fault?.kind === 'slow' ? fault.delayMs : 0));
    if (res.destroyed) return; // the client gave up while we waited
    if (rejection) return sendJson(res, protocol, rejection.status, errorBody(protocol, rejection.status, rejection.message));
    if (fault?.kind === 'reset') return void req.socket.resetAndDestroy();
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
      return sendJson(res, protocol, fault.status, fault.body ?? errorBody(protocol, fault.status), headers);
    }

    const reply = await (this.options.reply ?? echo)(request);
    const content = fault?.kind === 'malformed' ? reply.content.slice(0, Math.ceil(reply.content.length / 2)) : reply.content;
    const turn: Turn = {
      body,
      content,
      inputTokens: reply.inputTokens ?? estimateTokens(JSON.stringify(body.messages ?? [])),
      outputTokens: reply.outputTokens ?? estimateTokens(content),
      extra: reply.extra ?? {},
    };
    const cut = fault?.kind === 'cut-stream' ? fault.afterChunks : undefined;
    // A cut answer stops before its usage (see Fault), so only a whole one reports any.
    if (cut === undefined) this.#usage.set(request, { inputTokens: turn.inputTokens, outputTokens: turn.outputTokens });
    if (request.stream) {
      const events = protocol === 'openai' ? openaiStream(turn) : anthropicStream(turn);
      return send(res, protocol, 200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }, events, cut);
    }
    const json = protocol === 'openai' ? openaiCompletion(turn) : anthropicMessage(turn, anthropicBlock(turn));
    if (cut === undefined) return sendJson(res, protocol, 200, json);
    const text = JSON.stringify(json);
    return send(res, protocol, 200, jsonHeaders(text), [text.slice(0, text.length >> 1)], 1);
  }

  /** The checks the real APIs make before anything else: the key, and Anthropic's version header. */
  #reject(req: FixtureRequest): { status: number; message?: string } | undefined {
    const expected = this.options.apiKey;
    const bearer = /^Bearer (.*)$/.exec(req.headers.authorization ?? '')?.[1];
    if (req.protocol === 'openai') {
      if (expected !== undefined && bearer !== expected) return { status: 401 };
      return undefined;
    }
    // Anthropic's API takes `x-api-key`, but @anthropic-ai/sdk 1.x sends its apiKey as
    // `Authorization: Bearer`, so accept either.
    const apiKey = req.headers['x-api-key'];
    if (expected !== undefined && apiKey !== expected && bearer !== expected) return { status: 401 };
    if (!req.headers['anthropic-version']) return { status: 400, message: 'anthropic-version: header is required' };
    return undefined;
  }
}

/** What one answer is made of, whichever protocol and framing carries it. */
type Turn = { body: any; content: string; inputTokens: number; outputTokens: number; extra: Record<string, unknown> };

function echo(req: FixtureRequest): Reply {
  return { content: JSON.stringify({ echo: req.body.messages?.at(-1)?.content ?? null }) };
}

/** A deterministic stand-in for a tokenizer: 4 characters a token. */
function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function openaiCompletion(turn: Turn): object {
  return {
    id: `chatcmpl-${randomId()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: turn.body.model,
    choices: [{ index: 0, message: { role: 'assistant', content: turn.content, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: openaiUsage(turn),
    ...turn.extra,
  };
}

function openaiUsage(turn: Turn): object {
  return {
    prompt_tokens: turn.inputTokens,
    completion_tokens: turn.outputTokens,
    total_tokens: turn.inputTokens + turn.outputTokens,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

function openaiStream(turn: Turn): string[] {
  const id = `chatcmpl-${randomId()}`;
  const created = Math.floor(Date.now() / 1000);
  // Usage comes only when asked for, in a last chunk with no choices. Until then, every chunk
  // carries `usage: null`, as the real API does. Every chunk must carry the same `id`: the SDK's
  // accumulator copies a later chunk's top-level fields (usage, extra fields) only when it has one.
  const includeUsage = turn.body.stream_options?.include_usage === true;
  const chunk = (choices: object[], fields: object = {}) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: turn.body.model, choices, ...(includeUsage ? { usage: null } : {}), ...fields })}\n\n`;
  const choice = (delta: object, finish_reason: string | null = null) => ({ index: 0, delta, logprobs: null, finish_reason });
  return [
    chunk([choice({ role: 'assistant', content: '', refusal: null })]),
    ...pieces(turn.content).map((text) => chunk([choice({ content: text })])),
    chunk([choice({}, 'stop')], includeUsage ? {} : turn.extra),
    ...(includeUsage ? [chunk([], { usage: openaiUsage(turn), ...turn.extra })] : []),
    'data: [DONE]\n\n',
  ];
}

type AnthropicBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: object };

function anthropicBlock(turn: Turn): AnthropicBlock {
  const choice = turn.body.tool_choice;
  const input = choice?.type === 'tool' ? parseObject(turn.content) : undefined;
  // A forced tool answers with a tool_use block; content that is no JSON object (the malformed
  // fault) goes out as text instead, so the caller sees an invalid answer rather than a valid one.
  return input === undefined ? { type: 'text', text: turn.content } : { type: 'tool_use', id: `toolu_${randomId()}`, name: choice.name, input };
}

function anthropicMessage(turn: Turn, block: AnthropicBlock) {
  return {
    id: `msg_${randomId()}`,
    type: 'message',
    role: 'assistant',
    model: turn.body.model,
    content: [block],
    stop_reason: block.type === 'tool_use' ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: turn.inputTokens, output_tokens: turn.outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    ...turn.extra,
  };
}

function anthropicStream(turn: Turn): string[] {
  const block = anthropicBlock(turn);
  const message = anthropicMessage(turn, block);
  const event = (data: { type: string; [field: string]: unknown }) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
  const deltas = pieces(turn.content).map((text) => (block.type === 'text' ? { type: 'text_delta', text } : { type: 'input_json_delta', partial_json: text }));
  return [
    // The message opens empty with output_tokens 1; message_delta brings the stop reason and the
    // final output_tokens, while input_tokens is only ever in message_start.
    event({ type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } } }),
    // A tool_use block starts with `input: {}` and its JSON text follows in partial_json pieces.
    event({ type: 'content_block_start', index: 0, content_block: block.type === 'text' ? { type: 'text', text: '' } : { ...block, input: {} } }),
    event({ type: 'ping' }), // the real API sends one here; the SDK skips it, a raw parser must too
    ...deltas.map((delta) => event({ type: 'content_block_delta', index: 0, delta })),
    event({ type: 'content_block_stop', index: 0 }),
    event({ type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: turn.outputTokens } }),
    event({ type: 'message_stop' }),
  ];
}

// The error type, code and message each API sends for a status; other statuses get a generic one.
const OPENAI_ERRORS: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests.' },
  500: { type: 'server_error', code: null, message: 'The server had an error while processing your request.' },
};

const ANTHROPIC_ERRORS: Record<number, { type: string; message: string }> = {
  400: { type: 'invalid_request_error', message: 'Invalid request.' },
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  403: { type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' },
  404: { type: 'not_found_error', message: 'Not found.' },
  413: { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
  429: { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit.' },
  500: { type: 'api_error', message: 'Internal server error' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
};

/** The error body each provider sends for `status`. */
function errorBody(protocol: Protocol, status: number, message?: string): object {
  const fallback = status >= 500 ? 500 : 400;
  if (protocol === 'anthropic') {
    const known = ANTHROPIC_ERRORS[status] ?? ANTHROPIC_ERRORS[fallback]!;
    return { type: 'error', error: { type: known.type, message: message ?? known.message } };
  }
  const known = OPENAI_ERRORS[status] ?? OPENAI_ERRORS[fallback]!;
  return { error: { message: message ?? known.message, type: known.type, param: null, code: known.code } };
}

function sendJson(res: ServerResponse, protocol: Protocol, status: number, json: unknown, headers: Record<string, string> = {}): Promise<void> {
  const text = JSON.stringify(json);
  return send(res, protocol, status, { ...jsonHeaders(text), ...headers }, [text]);
}

function jsonHeaders(text: string): Record<string, string> {
  return { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) };
}

/** Writes `frames` as the body; with `cutAfter`, only that many, then destroys the socket. */
async function send(res: ServerResponse, protocol: Protocol, status: number, headers: Record<string, string>, frames: string[], cutAfter?: number): Promise<void> {
  // The SDKs expose these as `requestID` / `_request_id`.
  res.writeHead(status, { ...headers, [protocol === 'openai' ? 'x-request-id' : 'request-id']: `req_${randomId()}` });
  for (const frame of frames.slice(0, cutAfter)) {
    if (res.destroyed) return;
    await write(res, frame);
  }
  if (cutAfter === undefined) return void res.end();
  await write(res, ''); // flushes the headers when no frame was written
  res.destroy();
}

/** Resolves once the frame is handed to the socket, so a destroy after it cannot drop it. */
function write(res: ServerResponse, frame: string): Promise<void> {
  return new Promise((resolve) => res.write(frame, () => resolve()));
}

/** Splits streamed text into pieces of up to 8 characters, never inside a code point. */
function pieces(text: string): string[] {
  return text.match(/.{1,8}/gsu) ?? [];
}

function parseObject(text: string): object | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://fixture').pathname;
}

function randomId(): string {
  return randomUUID().replaceAll('-', '').slice(0, 24);
}
