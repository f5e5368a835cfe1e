import type { FastifyReply } from 'fastify';
import { ERROR_CODES, FenestraError, isFenestraError, type ErrorCode } from '../core/errors.js';
import { joinPath, joinPointer } from '../config/issues.js';

/** The error body of every Fenestra API answer: `{ "error": { "code", "message" } }` (+ `field` where one is at fault). */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly field?: string };
}

export function errorBody(code: ErrorCode, message: string, field?: string): ErrorBody {
  return { error: { code, message, ...(field === undefined ? {} : { field }) } };
}

export function sendError(reply: FastifyReply, code: ErrorCode, message: string, field?: string): FastifyReply {
  return reply.code(ERROR_CODES[code].status).type('application/json; charset=utf-8').send(errorBody(code, message, field));
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: unknown;
}

/** One schema-validation error as fastify hands it over (Ajv's ErrorObject). */
interface ValidationItem {
  instancePath?: string;
  params?: Record<string, unknown>;
}

/**
 * The field a schema-validation error is about, written as the daemon's other error fields are
 * (`keys[0]`, `Record[0].FeatureName`, `asOf`): the first error's JSON pointer, plus the property a
 * `required` or `additionalProperties` error names. Undefined when it is about the whole body.
 */
function validationField(validation: unknown): string | undefined {
  const first = (Array.isArray(validation) ? validation[0] : undefined) as ValidationItem | undefined;
  if (first === undefined) return undefined;
  let path = joinPointer('', first.instancePath ?? '');
  const named = first.params?.missingProperty ?? first.params?.additionalProperty;
  if (typeof named === 'string') path = joinPath(path, named);
  return path === '' ? undefined : path;
}

/**
 * Maps anything thrown in a handler (or by fastify's parsers) to a stable code. Client mistakes
 * (fastify 4xx errors: bad JSON, body too large, wrong media type, schema validation) never become 500s.
 */
export function classify(err: unknown): { code: ErrorCode; message: string; field?: string } {
  if (isFenestraError(err)) return { code: err.code, message: err.message, ...(err.path === undefined ? {} : { field: err.path }) };
  const e = (err ?? {}) as FastifyLikeError;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'PAYLOAD_TOO_LARGE', message: 'The request body exceeds the configured limit (server.bodyLimit).' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'UNSUPPORTED_MEDIA_TYPE', message: e.message ?? 'Unsupported media type; send application/json or application/x-ndjson.' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'BAD_REQUEST', message: 'The body is empty but the content type says JSON.' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { code: 'BAD_REQUEST', message: `Malformed JSON: ${e.message ?? ''}` };
    default:
      break;
  }
  if (e.validation !== undefined) {
    const field = validationField(e.validation);
    return { code: 'BAD_REQUEST', message: e.message ?? 'The request does not match its schema.', ...(field === undefined ? {} : { field }) };
  }
  if (err instanceof SyntaxError) return { code: 'BAD_REQUEST', message: `Malformed JSON: ${err.message}` };
  if (typeof e.statusCode === 'number' && e.statusCode === 413) return { code: 'PAYLOAD_TOO_LARGE', message: e.message ?? 'Payload too large' };
  if (typeof e.statusCode === 'number' && e.statusCode === 415) return { code: 'UNSUPPORTED_MEDIA_TYPE', message: e.message ?? 'Unsupported media type' };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return { code: 'BAD_REQUEST', message: e.message ?? 'Bad request' };
  return { code: 'INTERNAL', message: 'An unexpected internal error; see the server log for this request id.' };
}

/** Throws a FenestraError (for handlers). */
export function fail(code: ErrorCode, message: string, field?: string): never {
  throw new FenestraError(code, message, field === undefined ? {} : { path: field });
}
