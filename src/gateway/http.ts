import type { IncomingMessage, ServerResponse } from 'node:http';
import { GATEWAY_ERROR_HEADER, type GatewayError } from '../protocol/task.ts';
import type { WireFormat } from './metering.ts';

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

/** The request body, refused past `limit` bytes so one caller cannot fill the operator's memory. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError(`request body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const OPENAI_TYPES: Record<number, string> = { 400: 'invalid_request_error', 401: 'invalid_request_error', 402: 'insufficient_quota', 403: 'permission_error', 404: 'not_found_error', 502: 'server_error', 503: 'server_error' };
const ANTHROPIC_TYPES: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 402: 'billing_error', 403: 'permission_error', 404: 'not_found_error', 502: 'api_error', 503: 'overloaded_error' };

/**
 * An error the gateway itself answers with, in the caller's wire format (so the official
 * SDKs raise their usual error classes) and marked with GATEWAY_ERROR_HEADER (so the
 * runner tells it from an upstream error passed through).
 */
export function sendGatewayError(res: ServerResponse, format: WireFormat, status: number, code: GatewayError, message: string, headers: Record<string, string> = {}): void {
  const all = { [GATEWAY_ERROR_HEADER]: code, ...headers };
  if (format === 'anthropic') {
    sendJson(res, status, { type: 'error', error: { type: ANTHROPIC_TYPES[status] ?? 'api_error', message } }, all);
  } else {
    sendJson(res, status, { error: { message, type: OPENAI_TYPES[status] ?? 'server_error', param: null, code } }, all);
  }
}

/** The token a request carries: `Authorization: Bearer` (both SDKs) or `x-api-key` (older Anthropic clients). */
export function bearer(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const key = req.headers['x-api-key'];
  return typeof key === 'string' ? key.trim() : undefined;
}
