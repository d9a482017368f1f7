import { STATUS_CODES } from 'node:http';
import type { Bundle, BundleEntry, BundleEntryResponse, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { badRequest, methodNotAllowed, notSupported, OutcomeError, outcomeOf, issue } from '@imaging/fhir';
import type { Context, Env, Hono } from 'hono';
import { readResource } from './body.ts';
import { CORRELATION_ID_HEADER, isTraceId, REQUEST_ID_HEADER } from './request-context.ts';
import { entriesIfAny, fhirResponse } from './responses.ts';

/** How many entries one batch may carry: a page's worth of reads, so one request cannot ask for unbounded work. */
export const DEFAULT_MAX_BATCH_ENTRIES = 100;

export interface BatchOptions<E extends Env> {
  maxEntries?: number;
  /** Throws (an OutcomeError) for a caller who may send nothing here at all, before any entry runs. */
  admit?: (c: Context<E>) => void;
}

/**
 * A batch of reads at the FHIR base (`POST /fhir`, a Bundle of type `batch`): what clients send to fetch
 * several things in one round trip (MedplumClient's `autoBatchTime` gathers its GETs into one). Each
 * entry is sent through this same app as a request of its own, with the caller's token, so it meets
 * exactly the checks, scopes, access filters and audit of that request sent alone; the answers come back
 * in order as a `batch-response`. Writes are not taken in a batch: an entry that is not a GET is answered
 * 405 on its own, and nothing is written. Mount it after the FHIR routes' authentication.
 */
export function mountBatch<E extends Env>(app: Hono<E>, options: BatchOptions<E> = {}): void {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_BATCH_ENTRIES;
  const handler = async (c: Context<E>) => {
    options.admit?.(c);
    const bundle = await readResource<Bundle>(c, 'Bundle');
    const requests = batchRequests(bundle, maxEntries);
    const entry: BundleEntry[] = [];
    for (const [index, request] of requests.entries()) {
      if (c.req.raw.signal?.aborted) break;
      entry.push(await answerEntry(app, c, request, index));
    }
    return fhirResponse({ resourceType: 'Bundle', type: 'batch-response', ...entriesIfAny(entry) } as Bundle);
  };
  app.post('/fhir', handler);
  app.post('/fhir/', handler);
}

/** One entry's request as the Bundle gave it. */
interface EntryRequest {
  method: string;
  url: string;
}

/**
 * The entries' requests, or a 400 for a Bundle that is not a batch this server takes: another type (a
 * transaction, a message), too many entries, or an entry with no method and url to send.
 */
export function batchRequests(bundle: Bundle, maxEntries: number): EntryRequest[] {
  if (bundle.type === 'transaction') {
    throw new OutcomeError(
      notSupported(
        'Transactions are not taken here: send each write on its own, or reads as a batch (see /fhir/metadata)',
        'Bundle.type',
      ),
    );
  }
  if (bundle.type === 'message') {
    throw new OutcomeError(badRequest('A message Bundle is sent to $process-message, not to the base', 'Bundle.type'));
  }
  if (bundle.type !== 'batch') {
    throw new OutcomeError(
      badRequest(`Only a Bundle of type batch is taken here, not '${bundle.type}'`, 'Bundle.type'),
    );
  }
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) throw new OutcomeError(badRequest('Bundle.entry must be a list', 'Bundle.entry'));
  if (entries.length > maxEntries) {
    throw new OutcomeError(
      outcomeOf('bad-request', [
        issue({
          text: `A batch carries at most ${maxEntries} entries, not ${entries.length}: split it`,
          code: 'too-costly',
          expression: 'Bundle.entry',
        }),
      ]),
    );
  }
  return entries.map((e, i) => {
    const request = (e as BundleEntry | null)?.request;
    const where = `Bundle.entry[${i}].request`;
    if (!request || typeof request !== 'object')
      throw new OutcomeError(badRequest('Each entry needs a request', where));
    if (typeof request.method !== 'string' || typeof request.url !== 'string') {
      throw new OutcomeError(
        badRequest('Each entry request needs a method and a url', [`${where}.method`, `${where}.url`]),
      );
    }
    return { method: request.method, url: request.url };
  });
}

/**
 * Where an entry's url (`Patient/1`, `Task?status=requested`, relative to the FHIR base) is sent on this
 * server, or why it cannot be: an absolute url, one that names nothing, or one that would step out of the
 * FHIR base (`../`, encoded or not). Whatever the url, what is sent is below `/fhir/` on this origin.
 */
export function entryTarget(url: string, requestUrl: string): { target: URL } | { refused: string } {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    return { refused: `Give the url relative to this server's FHIR base (Patient/123), not '${url}'` };
  }
  const path = url.startsWith('/') ? url.slice(1) : url;
  if (path === '' || path.startsWith('/')) {
    return { refused: `'${url}' does not name a resource, a search or an operation below the FHIR base` };
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a URL parser drops some of them silently, so they are refused
  if (/[\\\s\u0000-\u001f\u007f]/.test(path)) {
    return { refused: `'${url}' holds a space, a control character or a backslash: percent-encode it` };
  }
  const segments = path.split(/[?#]/)[0]?.split('/') ?? [];
  const target = new URL(`/fhir/${path}`, requestUrl);
  if (segments.some((s) => /^(\.|%2e){1,2}$/i.test(s)) || !target.pathname.startsWith('/fhir/')) {
    return { refused: `'${url}' may not step out of the FHIR base` };
  }
  return { target };
}

async function answerEntry<E extends Env>(
  app: Hono<E>,
  c: Context<E>,
  { method, url }: EntryRequest,
  index: number,
): Promise<BundleEntry> {
  if (method !== 'GET') {
    return refusedEntry(
      405,
      methodNotAllowed(`A batch here carries reads (GET) only, not ${method}: send each write on its own`),
    );
  }
  const sent = entryTarget(url, c.req.url);
  if ('refused' in sent) return refusedEntry(400, badRequest(sent.refused, `Bundle.entry[${index}].request.url`));
  // An operation ($case-trail, $learning-report) can cost what a hundred reads do: one a request, on its own.
  const operation = sent.target.pathname.split('/').find((s) => s.startsWith('$') || s.startsWith('%24'));
  if (operation)
    return refusedEntry(
      400,
      notSupported(
        `A batch here carries reads and searches, not operations: send GET ${decodeURIComponent(operation)} on its own`,
        `Bundle.entry[${index}].request.url`,
      ),
    );
  const response = await app.fetch(new Request(sent.target, entryInit(c, index)), c.env);
  return entryOf(response);
}

/** The entry's request carries the caller's token and trace ids; its request id is the batch's, numbered. */
function entryInit(c: Context, index: number): RequestInit {
  const headers = new Headers({ Accept: 'application/fhir+json' });
  const authorization = c.req.header('Authorization');
  if (authorization) headers.set('Authorization', authorization);
  const requestId = `${c.get('requestId' as never) ?? ''}.${index + 1}`;
  if (isTraceId(requestId)) headers.set(REQUEST_ID_HEADER, requestId);
  const correlationId = c.get('correlationId' as never) as string | undefined;
  if (correlationId) headers.set(CORRELATION_ID_HEADER, correlationId);
  return { method: 'GET', headers, signal: c.req.raw.signal };
}

/** A response as a batch-response entry: the resource when it succeeded, its OperationOutcome when not. */
async function entryOf(response: Response): Promise<BundleEntry> {
  const text = await response.text();
  const body =
    text && /json/.test(response.headers.get('Content-Type') ?? '') ? (JSON.parse(text) as Resource) : undefined;
  const answer: BundleEntryResponse = { status: statusLine(response.status) };
  const etag = response.headers.get('ETag');
  if (etag) answer.etag = etag;
  const lastModified = response.headers.get('Last-Modified');
  if (lastModified) answer.lastModified = new Date(lastModified).toISOString();
  const location = response.headers.get('Location');
  if (location) answer.location = location;
  if (response.ok) return body ? { resource: body, response: answer } : { response: answer };
  if (body?.resourceType === 'OperationOutcome') answer.outcome = body as OperationOutcome;
  return { response: answer };
}

function refusedEntry(status: number, outcome: OperationOutcome): BundleEntry {
  return { response: { status: statusLine(status), outcome } };
}

/** `200 OK`, as HAPI and most servers write a batch entry's status. */
function statusLine(status: number): string {
  const reason = STATUS_CODES[status];
  return reason ? `${status} ${reason}` : String(status);
}
