// Maps every failure to the one error shape { error: { type, code, message, param } }; bad input is never a 500.
import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError } from '../domain/errors.js';

interface AjvIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/payment_method_options/wechat_pay/terminal_type` → `payment_method_options.wechat_pay.terminal_type`. */
export function paramOf(issue: AjvIssue): string {
  const path = issue.instancePath
    .split('/')
    .filter(Boolean)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const extra = issue.params.missingProperty ?? issue.params.additionalProperty;
  if (typeof extra === 'string') path.push(extra);
  return path.join('.');
}

function validationError(error: FastifyError): ApiError {
  const issue = (error.validation as AjvIssue[] | undefined)?.[0];
  if (!issue) return new ApiError(400, 'invalid_request_error', 'parameter_invalid', error.message);
  const param = paramOf(issue);
  const code =
    issue.keyword === 'required'
      ? 'parameter_missing'
      : issue.keyword === 'additionalProperties'
        ? 'parameter_unknown'
        : 'parameter_invalid';
  const message =
    issue.keyword === 'required'
      ? `Missing required param: ${param}.`
      : issue.keyword === 'additionalProperties'
        ? `Received unknown parameter: ${param}`
        : `Invalid ${param || error.validationContext || 'request'}: ${issue.message ?? 'invalid value'}`;
  return new ApiError(400, 'invalid_request_error', code, message, param || undefined);
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError?.validation) return validationError(fastifyError);
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiError(
      status,
      'invalid_request_error',
      (fastifyError.code ?? 'invalid_request').toLowerCase(),
      fastifyError.message,
    );
  }
  return new ApiError(500, 'api_error', 'internal_error', 'An internal error occurred; it has been logged.');
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(apiError.status).send(apiError.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new ApiError(
      404,
      'invalid_request_error',
      'route_missing',
      `Unrecognized request URL (${request.method}: ${request.url.split('?')[0]})`,
    );
    return reply.code(404).send(error.toJSON());
  });
}
