import type { Caller, CallerKind } from '@imaging/fhir';
import { forbidden, OutcomeError } from '@imaging/fhir';

/** 403 unless the caller is one of these kinds of client (routing and pointer registration are for gateways). */
export function assertKind(caller: Caller, kinds: readonly CallerKind[], what: string): void {
  if (!kinds.includes(caller.kind)) {
    throw new OutcomeError(
      forbidden(`Only ${kinds.join(' or ')} clients may ${what}; ${caller.clientId} is a ${caller.kind}`),
    );
  }
}

/** The caller's region; a 403 when its token names none. */
export function regionOf(caller: Caller): string {
  if (!caller.region) throw new OutcomeError(forbidden(`${caller.clientId} belongs to no region`));
  return caller.region;
}
