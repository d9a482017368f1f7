import type { MiddlewareHandler } from 'hono';
import type { Logger } from '@imaging/fhir';

export const REQUEST_ID_HEADER = 'X-Request-ID';
export const CORRELATION_ID_HEADER = 'X-Correlation-ID';

/** Hono variables every FHIR app carries. */
export interface RequestVars {
  requestId: string;
  correlationId: string;
  /**
   * Whether this request made its correlation id up: the client sent neither a valid X-Correlation-ID nor
   * a valid X-Request-ID (which would be the case name). A made-up id is random, so no earlier request
   * can have named a case with it.
   */
  correlationMinted: boolean;
}

const ID_RE = /^[A-Za-z0-9\-._:]{1,128}$/;

/**
 * Takes `X-Request-ID` and `X-Correlation-ID` from the caller (or makes them), echoes them on the
 * response, and writes one access-log line per request carrying both.
 */
export function requestContext(logger: Logger): MiddlewareHandler<{ Variables: RequestVars }> {
  return async (c, next) => {
    const started = performance.now();
    const givenRequestId = validId(c.req.header(REQUEST_ID_HEADER));
    const givenCorrelationId = validId(c.req.header(CORRELATION_ID_HEADER));
    const requestId = givenRequestId ?? crypto.randomUUID();
    const correlationId = givenCorrelationId ?? requestId;
    c.set('requestId', requestId);
    c.set('correlationId', correlationId);
    c.set('correlationMinted', givenCorrelationId === undefined && givenRequestId === undefined);
    await next();
    c.header(REQUEST_ID_HEADER, requestId);
    c.header(CORRELATION_ID_HEADER, correlationId);
    const client = (c.get('auth' as never) as { sub?: string } | undefined)?.sub;
    logger.info('request', {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
      requestId,
      correlationId,
      ...(client ? { client } : {}),
    });
  };
}

/** Whether a value will do as a request or correlation id: 1-128 of A-Z a-z 0-9 - . _ : */
export function isTraceId(value: string | undefined): value is string {
  return !!value && ID_RE.test(value);
}

function validId(value: string | undefined): string | undefined {
  return value && ID_RE.test(value) ? value : undefined;
}

/** What a request asked, relative to the FHIR base (`Patient?identifier=…`, `AuditEvent/a1/_history/1`): an audit's query. */
export function askedQuery(url: URL): string {
  return `${url.pathname.replace(/^.*\/fhir\//, '')}${url.search}`;
}
