import type { Marker } from './checker.ts';
import type { Snapshot } from './snapshot.ts';

/** The services attacked: the hub and each region's gateway. */
export type ServiceName = 'hub' | 'north' | 'midlands' | 'south';
export const GATEWAYS = ['north', 'midlands', 'south'] as const;

/** Who a caller is, as the services know it from a valid token. */
export interface Identity {
  clientId: string;
  kind: 'referrer' | 'provider' | 'clinician' | 'gateway' | 'observer' | 'hub';
  organisation?: string;
  region?: string;
}

export interface AttackRequest {
  method: string;
  /** From the service's root: `/fhir/Task?status=x`, `/oauth2/token`. */
  path: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is. */
  body?: unknown;
}

export interface Answer {
  status: number;
  text: string;
}

/**
 * What a request is sent with: nothing, a raw `Authorization` header, a real token of a client from the
 * hub's token endpoint (optionally narrowed to `scope`), a valid token signed with the hub's key for the
 * client's claims and exactly `scopes` (how the hub's own token is narrowed), or a token made by hand from
 * a client's claims that is wrong in one way (`TokenVariant`).
 */
export type Credential =
  | { kind: 'none' }
  | { kind: 'header'; value: string }
  | { kind: 'client'; client: string; scope?: string }
  | { kind: 'signed'; client: string; scopes: readonly string[] }
  | { kind: 'minted'; variant: TokenVariant; client: string };

export const TOKEN_VARIANTS = [
  'expired',
  'forged-signature',
  'wrong-audience',
  'other-issuer',
  'alg-none',
  'alg-hs256-with-public-key',
  'not-an-access-token',
  'claims-tampered',
] as const;
export type TokenVariant = (typeof TOKEN_VARIANTS)[number];

/**
 * What the runner needs of a deployment under attack: a way to send, the credentials' headers and the
 * identities they stand for, the stores' state, and what no answer may show.
 */
export interface AttackSurface {
  send(service: ServiceName, request: AttackRequest, authorization: string | undefined): Promise<Answer>;
  authorization(credential: Credential): Promise<string | undefined>;
  /** The caller a credential stands for when the services accept it; undefined for one they must refuse. */
  identity(credential: Credential): Identity | undefined;
  snapshot(): Promise<Snapshot>;
  markers: readonly Marker[];
  /** Strings of the deployment that no answer may contain: store addresses, partition names. */
  internals: readonly string[];
  /** Requests every service must still answer as before once the attacks are over. */
  probes: readonly Probe[];
}

/** A request that must keep working: the answer's status, and the markers it must show (its caller's own). */
export interface Probe {
  name: string;
  service: ServiceName;
  credential: Credential;
  request: AttackRequest;
  status: number;
  shows?: readonly string[];
}
