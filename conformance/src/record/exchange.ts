/**
 * HTTP exchanges as the reports show them. Every request a test makes (and every request the suite's
 * stand-in hub forwards) goes through `recordingFetch`, which appends one Exchange to the running test,
 * so a failed check comes with the request that was sent and the response that came back.
 */

export interface RecordedMessage {
  headers: Record<string, string>;
  /** The body as text, cut at MAX_BODY_CHARS; undefined when there was none. */
  body?: string;
  /** Set when the body was longer than what is kept. */
  truncated?: boolean;
}

export interface Exchange {
  /** Who spoke to whom, e.g. `suite → server`, `hub → system under test`. */
  label: string;
  at: string;
  durationMs: number;
  request: RecordedMessage & { method: string; url: string };
  response?: RecordedMessage & { status: number };
  /** No answer at all (refused, reset, timed out). */
  error?: string;
}

export const MAX_BODY_CHARS = 8_000;
/** Per test (or per file outside tests): a runaway polling loop must not make the report unreadable. */
export const MAX_EXCHANGES = 60;

/** Headers whose values are secrets: recorded as present, never with their value. */
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'proxy-authorization']);
/** Form fields of a token request that carry a signed assertion or a token. */
const SECRET_FORM_FIELDS = ['client_assertion', 'access_token', 'refresh_token'];

export function redactHeaders(headers: Headers | Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers ?? {});
  for (const [name, value] of entries) {
    const key = name.toLowerCase();
    out[key] = SECRET_HEADERS.has(key) ? redactCredential(value) : value;
  }
  return out;
}

/** `Bearer eyJ…` → `Bearer <redacted>`: the scheme is useful in a report, the credential is not. */
function redactCredential(value: string): string {
  const scheme = /^(\S+)\s+\S/.exec(value)?.[1];
  return scheme ? `${scheme} <redacted>` : '<redacted>';
}

/** JWTs and signed assertions never reach a report, wherever they appear in a body. */
export function redactBody(text: string): string {
  let out = text.replace(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '<redacted JWT>');
  for (const field of SECRET_FORM_FIELDS) out = out.replace(new RegExp(`(${field}=)[^&\\s]+`, 'g'), '$1<redacted>');
  return out;
}

export function keepBody(text: string | undefined): Pick<RecordedMessage, 'body' | 'truncated'> {
  if (text === undefined || text === '') return {};
  const clean = redactBody(text);
  return clean.length > MAX_BODY_CHARS ? { body: clean.slice(0, MAX_BODY_CHARS), truncated: true } : { body: clean };
}

/**
 * Where exchanges go right now. The worker runs one test at a time per file, so a module-level pointer
 * set by the setup file's hooks is enough: a test's own list while it runs, the file's list otherwise.
 */
let sink: Exchange[] | undefined;

export function setExchangeSink(list: Exchange[] | undefined): void {
  sink = list;
}

export function currentExchangeSink(): Exchange[] | undefined {
  return sink;
}

export function record(exchange: Exchange): void {
  if (!sink) return;
  if (sink.length < MAX_EXCHANGES) sink.push(exchange);
  else if (sink.length === MAX_EXCHANGES) {
    sink.push({
      ...exchange,
      label: `${exchange.label} (further exchanges not recorded)`,
      request: { ...exchange.request, body: undefined, headers: {} },
      response: undefined,
    });
  }
}

async function bodyOfRequest(
  input: string | URL | Request,
  init: RequestInit | undefined,
): Promise<string | undefined> {
  const body = init?.body ?? (input instanceof Request ? await input.clone().text() : undefined);
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  return `<${body.constructor?.name ?? 'binary'} body>`;
}

/**
 * A fetch that records each exchange (to the current test) and otherwise behaves exactly like `inner`.
 * The response body is read from a clone, so the caller still gets an unread response.
 */
export function recordingFetch(label: string, inner: typeof fetch = globalThis.fetch): typeof fetch {
  const wrapped = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const started = performance.now();
    const at = new Date().toISOString();
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const url = input instanceof Request ? input.url : String(input);
    const requestHeaders = redactHeaders(
      new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)),
    );
    const requestBody = await bodyOfRequest(input, init);
    const request = { method, url, headers: requestHeaders, ...keepBody(requestBody) };
    let response: Response;
    try {
      response = await inner(input, init);
    } catch (err) {
      record({
        label,
        at,
        durationMs: performance.now() - started,
        request,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
      throw err;
    }
    let text: string | undefined;
    try {
      text = await response.clone().text();
    } catch (err) {
      text = `<body could not be read: ${String(err)}>`;
    }
    record({
      label,
      at,
      durationMs: performance.now() - started,
      request,
      response: { status: response.status, headers: redactHeaders(response.headers), ...keepBody(text) },
    });
    return response;
  };
  return wrapped as typeof fetch;
}
