import type { Caller } from '@imaging/fhir';
import { askedQuery } from '@imaging/fhir-http';
import type { Resource } from '@medplum/fhirtypes';
import type { DisclosureKind } from '../domain/disclosures.ts';
import { disclosureAudit } from '../domain/disclosures.ts';
import type { AppContext, AppDeps } from '../deps.ts';

/**
 * Hands the record of what this request returned to the background writer: the response is not held
 * back for it (deps.disclosures says what a crash can lose).
 */
export function recordDisclosure(
  deps: AppDeps,
  c: AppContext,
  caller: Caller,
  kind: DisclosureKind,
  resources: readonly Resource[],
  correlationId: string = c.var.correlationId,
): void {
  const event = disclosureAudit(deps.region, {
    caller,
    kind,
    resources,
    query: askedQuery(new URL(c.req.url)),
    correlationId,
    recorded: deps.clock.now(),
  });
  if (event) deps.disclosures.add(event);
}
