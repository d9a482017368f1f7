import { ClientKind } from '@imaging/config';
import { z } from 'zod';

/** The claims of an access token issued by the hub (RFC 9068 JWT, `typ: at+jwt`). */
export const AccessClaimsSchema = z.object({
  iss: z.string().min(1),
  sub: z.string().min(1),
  aud: z.union([z.string(), z.array(z.string())]),
  /** Space-separated granted scopes. */
  scope: z.string(),
  /** The client's kind, or `hub` for the hub's own calls. */
  client_kind: z.union([ClientKind, z.literal('hub')]),
  /** ODS code of the organisation the client acts for (absent for gateways and the hub). */
  org: z.string().optional(),
  /** The client's region (absent for the hub). */
  region: z.string().optional(),
  iat: z.number().int(),
  exp: z.number().int(),
  jti: z.string().min(1),
});

export type AccessClaims = z.infer<typeof AccessClaimsSchema>;
export type ClientKindClaim = AccessClaims['client_kind'];

/** The JOSE header `typ` of our access tokens (RFC 9068), so no other JWT passes for one. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
