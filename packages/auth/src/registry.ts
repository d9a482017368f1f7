import { readFileSync } from 'node:fs';
import { ClientKind } from '@imaging/config';
import type { JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { PRIVATE_JWK_MEMBERS, SIGNING_ALGORITHMS } from './keys.ts';
import type { RemoteKeysOptions } from './remote-keys.ts';
import { localKeys, remoteKeys } from './remote-keys.ts';

/**
 * The hub's client registry (`clients.json`): who may ask for tokens, with which scopes, and the
 * public keys their assertions are checked against — inline (`jwks`) or published by the client
 * (`jwks_uri`, how vendors register).
 */

const PublicJwkSchema = z
  .looseObject({
    kty: z.enum(['EC', 'RSA']),
    kid: z.string().min(1),
    alg: z.enum(SIGNING_ALGORITHMS).optional(),
    use: z.literal('sig').optional(),
    crv: z.string().optional(),
    x: z.string().optional(),
    y: z.string().optional(),
    n: z.string().optional(),
    e: z.string().optional(),
  })
  .superRefine((jwk, ctx) => {
    const leaked = PRIVATE_JWK_MEMBERS.filter((m) => m in jwk);
    if (leaked.length)
      ctx.addIssue({
        code: 'custom',
        message: `a private key member (${leaked.join(', ')}): register public keys only`,
      });
    const needed = jwk.kty === 'EC' ? (['crv', 'x', 'y'] as const) : (['n', 'e'] as const);
    for (const m of needed)
      if (!jwk[m]) ctx.addIssue({ code: 'custom', path: [m], message: `an ${jwk.kty} key needs '${m}'` });
  });

// https only, except on this machine (the dev set-up serves keys over http on 127.0.0.1).
const jwksUri = z.url({ protocol: /^https?$/ }).refine((u) => {
  const url = new URL(u);
  return url.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}, 'jwks_uri must use https (http only on localhost)');

export const ClientRegistrationSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes'),
    kind: ClientKind,
    /** Absent only for an observer (a national, read-only view). */
    region: z.string().min(1).optional(),
    organisation: z.string().min(1).optional(),
    scopes: z.array(z.string().min(1)).min(1),
    jwks: z.object({ keys: z.array(PublicJwkSchema).min(1) }).optional(),
    jwks_uri: jwksUri.optional(),
  })
  .refine((c) => (c.jwks === undefined) !== (c.jwks_uri === undefined), 'register exactly one of jwks and jwks_uri');

export type ClientRegistration = z.infer<typeof ClientRegistrationSchema>;

export const ClientRegistryFileSchema = z.object({ clients: z.array(ClientRegistrationSchema) });
export type ClientRegistryFile = z.infer<typeof ClientRegistryFileSchema>;

export interface ClientRegistry {
  get(id: string): ClientRegistration | undefined;
  ids(): string[];
  /** The keys a client's assertions are verified with (remote keys are fetched and cached). */
  keysOf(id: string): JWTVerifyGetKey;
  /** Every scope some client may have, for the SMART configuration's `scopes_supported`. */
  scopes(): string[];
}

/** Checks a registry document, naming every problem (path and message) in one error. */
export function parseClientRegistry(raw: unknown, source = 'client registry'): ClientRegistration[] {
  const result = ClientRegistryFileSchema.safeParse(raw);
  if (!result.success) {
    throw new Error(
      `Invalid ${source}:\n${result.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`,
    );
  }
  const ids = result.data.clients.map((c) => c.id);
  const duplicates = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
  if (duplicates.length)
    throw new Error(`Invalid ${source}:\n${duplicates.map((id) => `  - client ${id} is registered twice`).join('\n')}`);
  return result.data.clients;
}

export function createClientRegistry(
  clients: readonly ClientRegistration[],
  options: RemoteKeysOptions = {},
): ClientRegistry {
  const byId = new Map(clients.map((c) => [c.id, c]));
  const keys = new Map<string, JWTVerifyGetKey>();
  return {
    get: (id) => byId.get(id),
    ids: () => [...byId.keys()],
    keysOf(id) {
      const client = byId.get(id);
      if (!client) throw new Error(`Unknown client ${id}`);
      let getKey = keys.get(id);
      if (!getKey) {
        getKey = client.jwks ? localKeys(client.jwks) : remoteKeys(client.jwks_uri as string, options);
        keys.set(id, getKey);
      }
      return getKey;
    },
    scopes: () => [...new Set(clients.flatMap((c) => c.scopes))].sort(),
  };
}

/** Reads `clients.json` and builds the registry; a missing or invalid file is a start-up error. */
export function loadClientRegistry(file: string, options: RemoteKeysOptions = {}): ClientRegistry {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read client registry ${file}: ${(err as Error).message}`);
  }
  return createClientRegistry(parseClientRegistry(raw, file), options);
}
