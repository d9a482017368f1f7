import { existsSync } from 'node:fs';
import { badGateway, OutcomeError, unauthorized, unavailable } from '@imaging/fhir';
import { SignJWT } from 'jose';
import type { CryptoKey } from 'jose';
import type { Clock } from '@imaging/fhir';
import { systemClock } from '@imaging/fhir';
import { epochSeconds } from './clock.ts';
import { defaultDataDir, devKeyFile } from './dev-credentials.ts';
import { tokenEndpointOf } from './endpoints.ts';
import type { SigningAlgorithm, SigningKey } from './keys.ts';
import { loadOrCreateKeyPair } from './keys.ts';
import type { FetchLike } from './remote-keys.ts';
import type { TokenResponse, TokenSigner } from './token-service.ts';
import { CLIENT_ASSERTION_TYPE, MAX_ASSERTION_LIFETIME_SECONDS, mintServiceToken } from './token-service.ts';

/** Something that hands out a valid access token, fetching a new one only when needed. */
export interface TokenSource {
  getToken(): Promise<string>;
  /** Drops the cached token (e.g. after a 401), so the next `getToken` fetches a new one. */
  invalidate(): void;
}

/** Tokens are renewed this long before they expire, so none expires in flight. */
export const DEFAULT_REFRESH_MARGIN_SECONDS = 30;

export interface ClientAssertionOptions {
  tokenUrl: string;
  /**
   * The `aud` of the assertion: the token endpoint as the hub names it. Default `tokenUrl`; differs
   * when the client posts to the hub at an internal address while the hub's public URL is another.
   */
  audience?: string;
  clientId: string;
  privateKey: CryptoKey;
  kid: string;
  /** Default: from the key (ES384 for P-384, RS384 for RSA). */
  alg?: SigningAlgorithm;
  clock?: Clock;
}

export interface ClientCredentialsOptions extends ClientAssertionOptions {
  /** Space-separated scopes to ask for; none asks for all the client may have. */
  scope?: string;
  fetch?: FetchLike;
  timeoutMs?: number;
  refreshMarginSeconds?: number;
}

/** A SMART Backend Services client assertion: signed by the client, for the token endpoint, with a fresh jti. */
export async function signClientAssertion(options: ClientAssertionOptions): Promise<string> {
  const now = epochSeconds((options.clock ?? systemClock).now());
  return new SignJWT({})
    .setProtectedHeader({ alg: options.alg ?? algorithmOf(options.privateKey), kid: options.kid, typ: 'JWT' })
    .setIssuer(options.clientId)
    .setSubject(options.clientId)
    .setAudience(options.audience ?? options.tokenUrl)
    .setIssuedAt(now)
    .setExpirationTime(now + MAX_ASSERTION_LIFETIME_SECONDS)
    .setJti(crypto.randomUUID())
    .sign(options.privateKey);
}

/**
 * SMART Backend Services, client side: signs a fresh assertion (unique jti, 5-minute exp), posts it
 * to the token endpoint, and caches the token until shortly before it expires. Concurrent callers
 * share one request. Fails with an OutcomeError: 503 when the hub cannot be reached (retry later),
 * 401 when it refuses the client (fix the set-up).
 */
export function clientCredentialsTokenSource(options: ClientCredentialsOptions): TokenSource {
  const clock = options.clock ?? systemClock;
  const margin = options.refreshMarginSeconds ?? DEFAULT_REFRESH_MARGIN_SECONDS;
  return cachingSource(clock, margin, async () => {
    const assertion = await signClientAssertion(options);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: assertion,
    });
    if (options.scope) form.set('scope', options.scope);
    return requestToken(options.tokenUrl, form, options.fetch ?? fetch, options.timeoutMs ?? 10_000);
  });
}

async function requestToken(
  tokenUrl: string,
  form: URLSearchParams,
  fetchImpl: FetchLike,
  timeoutMs: number,
): Promise<TokenResponse> {
  let response: Response;
  try {
    response = await fetchImpl(tokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: form.toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : networkReason(err);
    throw new OutcomeError(unavailable(`Cannot reach the token endpoint ${tokenUrl}: ${reason}`));
  }
  const body = (await response.json().catch(() => undefined)) as
    | Partial<TokenResponse & { error: string; error_description: string }>
    | undefined;
  if (response.ok && typeof body?.access_token === 'string' && typeof body.expires_in === 'number')
    return body as TokenResponse;
  if (response.status === 400 || response.status === 401) {
    const why = body?.error
      ? `${body.error}${body.error_description ? `: ${body.error_description}` : ''}`
      : `HTTP ${response.status}`;
    throw new OutcomeError(unauthorized(`The token endpoint refused the request (${why})`));
  }
  if (response.status >= 500)
    throw new OutcomeError(unavailable(`The token endpoint ${tokenUrl} answered ${response.status}`));
  throw new OutcomeError(badGateway(`The token endpoint ${tokenUrl} answered ${response.status} without a token`));
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? 'network error';
}

function algorithmOf(key: CryptoKey): SigningAlgorithm {
  const algorithm = key.algorithm as { name: string; namedCurve?: string };
  if (algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-384') return 'ES384';
  if (algorithm.name === 'RSASSA-PKCS1-v1_5') return 'RS384';
  throw new Error(
    `Cannot sign client assertions with a ${algorithm.name} ${algorithm.namedCurve ?? ''} key: use ES384 or RS384`,
  );
}

/** Caches what `fetchToken` returns until `margin` seconds before it expires; one fetch at a time. */
function cachingSource(clock: Clock, margin: number, fetchToken: () => Promise<TokenResponse>): TokenSource {
  let cached: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;
  return {
    async getToken() {
      if (cached && clock.now().getTime() < cached.renewAt) return cached.token;
      pending ??= (async () => {
        try {
          const requestedAt = clock.now().getTime();
          const response = await fetchToken();
          // Never cache past half the lifetime for very short tokens.
          const keepFor = Math.max(response.expires_in - margin, response.expires_in / 2);
          cached = { token: response.access_token, renewAt: requestedAt + keepFor * 1000 };
          return response.access_token;
        } finally {
          pending = undefined;
        }
      })();
      return pending;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

/** The hub's own cached token source for its calls to gateways. */
export function serviceTokenSource(
  signer: TokenSigner,
  request: { scope: string | readonly string[]; audience?: string },
): TokenSource {
  return cachingSource(signer.clock ?? systemClock, DEFAULT_REFRESH_MARGIN_SECONDS, () =>
    mintServiceToken(request, signer),
  );
}

export interface DevTokenSourceOptions {
  /** Where to reach the hub. */
  hubUrl: string;
  /** The hub's public URL, the issuer it names itself by, when not `hubUrl`: assertions are addressed to it. */
  hubPublicUrl?: string;
  dataDir?: string;
  scope?: string;
  fetch?: FetchLike;
  clock?: Clock;
}

/** A token source for a dev client, with its key from `<dataDir>/keys/` (see `ensureDevCredentials`). */
export async function devTokenSource(clientId: string, options: DevTokenSourceOptions): Promise<TokenSource> {
  const key = await devClientKey(clientId, options.dataDir);
  return clientCredentialsTokenSource({
    tokenUrl: tokenEndpointOf(options.hubUrl),
    ...(options.hubPublicUrl ? { audience: tokenEndpointOf(options.hubPublicUrl) } : {}),
    clientId,
    privateKey: key.privateKey,
    kid: key.kid,
    alg: key.alg,
    ...(options.scope ? { scope: options.scope } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

/** A dev client's signing key from `<dataDir>/keys/` (see `ensureDevCredentials`); never makes one. */
export async function devClientKey(clientId: string, dataDir: string = defaultDataDir()): Promise<SigningKey> {
  const file = devKeyFile(dataDir, clientId);
  if (!existsSync(file))
    throw new Error(
      `No dev key for client ${clientId} at ${file}: run ensureDevCredentials (the demo or the hub does) first`,
    );
  return loadOrCreateKeyPair(file);
}
