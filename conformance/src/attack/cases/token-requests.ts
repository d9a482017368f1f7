import { randomUUID } from 'node:crypto';
import {
  CLIENT_ASSERTION_TYPE,
  devKeyFile,
  generateSigningKey,
  loadOrCreateKeyPair,
  tokenEndpointOf,
} from '@imaging/auth';
import type { AttackRequest } from '../surface.ts';
import { signEs384 } from '../tokens.ts';
import type { AttackWorld } from '../world.ts';

export interface AssertionOptions {
  /** `forged`: a key the client never registered, under its registered key's kid. */
  key?: 'forged';
  expiresIn?: number;
  audience?: string;
  /** The assertion's `iss` (its `sub` stays the client). */
  issuer?: string;
  /** The client the assertion claims to be (signed with the real client's key). */
  client?: string;
  algNone?: boolean;
  /** null: no jti. */
  jti?: null;
}

/** A SMART client-credentials form with a client assertion, wrong in the one way the options say. */
export async function assertionForm(
  world: AttackWorld,
  client: string,
  options: AssertionOptions = {},
): Promise<Record<string, string>> {
  const registered = await loadOrCreateKeyPair(devKeyFile(world.net.hub.dataDir, client));
  const key = options.key === 'forged' ? await generateSigningKey('ES384', registered.kid) : registered;
  const now = Math.floor(Date.now() / 1000);
  const claimed = options.client ?? client;
  const claims = {
    iss: options.issuer ?? claimed,
    sub: claimed,
    aud: options.audience ?? tokenEndpointOf(world.net.hub.publicUrl),
    iat: now,
    exp: now + (options.expiresIn ?? 240),
    ...(options.jti === null ? {} : { jti: randomUUID() }),
  };
  const header = { alg: 'ES384', kid: key.kid, typ: 'JWT' };
  const assertion = options.algNone
    ? `${Buffer.from(JSON.stringify({ ...header, alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`
    : await signEs384(header, claims, key);
  return {
    grant_type: 'client_credentials',
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: assertion,
  };
}

export function tokenRequest(form: Record<string, string>): AttackRequest {
  return {
    method: 'POST',
    path: '/oauth2/token',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  };
}
