import { badRequest, OutcomeError, payloadTooLarge, unsupportedMediaType } from '@imaging/fhir';
import type { Context, Env, Hono, MiddlewareHandler } from 'hono';
import { refuseEncodedBody } from './body.ts';
import type { CapabilityResource } from './capability.ts';
import { CORRELATION_ID_HEADER, REQUEST_ID_HEADER } from './request-context.ts';

/**
 * How large a `_search` form may be: a few times what a GET's query can carry (Node takes 16 KiB of request
 * line and headers), for the long `_id` lists clients post, far short of the body limit for resources.
 */
export const SEARCH_FORM_LIMIT = 64 * 1024;

const FORM = 'application/x-www-form-urlencoded';

/**
 * FHIR R4's search by POST (http.html#search): `POST [base]/[type]/_search` with the parameters as a form
 * (some may also be in the URL), and `GET [base]/[type]/_search?…` as HAPI also takes it. Each is sent
 * through this same app as the GET search it stands for (the URL's parameters, then the form's, in order),
 * with the caller's headers and trace ids, so it meets exactly that search's token check, scopes, access
 * filters, self link and audit: no search route knows of it. Only types whose CapabilityStatement entry
 * has `search-type` are taken; any other `_search` goes on to the routes after it (404, 405). Mount it
 * before the bearer-token check: the GET decides who may search, as it does for the open published types.
 */
export function mountSearchByPost<E extends Env>(
  app: Hono<E>,
  served: readonly Pick<CapabilityResource, 'type' | 'interactions'>[],
  maxBytes = SEARCH_FORM_LIMIT,
): void {
  const searchable = new Set<string>(served.filter((r) => r.interactions.includes('search-type')).map((r) => r.type));
  const handler: MiddlewareHandler<E> = async (c, next) => {
    if (!searchable.has(c.req.param('type') ?? '')) return next();
    const url = new URL(c.req.url);
    url.pathname = url.pathname.replace(/\/[^/]*$/, ''); // the type's URL: `_search` dropped
    if (c.req.method === 'POST') {
      const form = new URLSearchParams(await formOf(c, maxBytes)).toString();
      url.search = [url.search.slice(1), form].filter(Boolean).join('&');
    }
    return app.fetch(new Request(url, { method: 'GET', headers: sentOn(c), signal: c.req.raw.signal }), c.env);
  };
  app.on(['GET', 'POST'], '/fhir/:type/_search', handler);
}

/** The form's parameters, in order: a 415 for another media type, 413 over `maxBytes`, 400 if not decodable. */
async function formOf(c: Context, maxBytes: number): Promise<[string, string][]> {
  refuseEncodedBody(c);
  const [mediaType = '', ...params] = (c.req.header('Content-Type') ?? '').split(';').map((p) => p.trim());
  const charset = params
    .find((p) => /^charset=/i.test(p))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (mediaType.toLowerCase() !== FORM || (charset && charset.toLowerCase() !== 'utf-8')) {
    const given = `${mediaType || 'none'}${charset ? `; charset=${charset}` : ''}`;
    throw new OutcomeError(unsupportedMediaType(`A search by POST is sent as ${FORM} (UTF-8), not '${given}'`));
  }
  const tooLarge = () => new OutcomeError(payloadTooLarge(maxBytes), 413);
  if (Number(c.req.header('Content-Length') ?? 0) > maxBytes) throw tooLarge();
  const bytes = await c.req.arrayBuffer();
  if (bytes.byteLength > maxBytes) throw tooLarge();
  try {
    return new TextDecoder('utf-8', { fatal: true })
      .decode(bytes)
      .split('&')
      .filter(Boolean)
      .map((pair) => {
        const eq = pair.indexOf('=');
        return [decodeFormPart(eq < 0 ? pair : pair.slice(0, eq)), eq < 0 ? '' : decodeFormPart(pair.slice(eq + 1))];
      });
  } catch (err) {
    // URLSearchParams would pass a stray `%` through as text: a search for something else than was meant.
    throw new OutcomeError(badRequest(`The search form is not valid UTF-8 ${FORM}: ${(err as Error).message}`));
  }
}

const decodeFormPart = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));

/** The caller's headers, less the form's, with this request's trace ids: its audit names this request. */
function sentOn(c: Context): Headers {
  const headers = new Headers(c.req.raw.headers);
  for (const name of ['Content-Type', 'Content-Length', 'Transfer-Encoding']) headers.delete(name);
  for (const [name, key] of [
    [REQUEST_ID_HEADER, 'requestId'],
    [CORRELATION_ID_HEADER, 'correlationId'],
  ] as const) {
    const id = c.get(key as never) as string | undefined;
    if (id) headers.set(name, id);
  }
  return headers;
}
