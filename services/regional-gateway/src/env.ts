import type { AuthVariables } from '@imaging/auth';
import type { AccessTokenVerifier } from '@imaging/auth';
import type { PageTokens, RequestVars } from '@imaging/fhir-http';
import type { Context } from 'hono';
import { callerOf } from './caller.ts';
import type { Caller, GatewayDeps } from './domain/ports.ts';

export interface AppDeps extends GatewayDeps {
  verifier: AccessTokenVerifier;
  pageTokens: PageTokens;
  /** Called after a change that queued a delivery, so the worker runs now rather than at its next tick. */
  wakeDelivery?: () => void;
  bodyLimitBytes?: number;
  version?: string;
}

export type GatewayHonoEnv = { Variables: RequestVars & AuthVariables };
export type GatewayContext = Context<GatewayHonoEnv>;

export function callerFrom(c: GatewayContext, deps: AppDeps): Caller {
  return callerOf(c.var.auth, deps.region.regionId);
}
