/** The kinds of client the directory registers, and `hub` for the hub's own calls into a region. */
export type CallerKind = 'referrer' | 'provider' | 'clinician' | 'gateway' | 'observer' | 'hub';

/**
 * The authenticated caller as domain code sees it: built from a verified access token by
 * `callerOf` (@imaging/auth), never from anything a request body claims.
 */
export interface Caller {
  clientId: string;
  kind: CallerKind;
  /** The ODS code the client acts for (absent for gateways and the hub). */
  organisation?: string;
  /** The client's region (absent for the hub). */
  region?: string;
}
