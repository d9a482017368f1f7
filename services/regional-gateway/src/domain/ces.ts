import type { ServiceRequest } from '@medplum/fhirtypes';
import { isOutcomeError, isSuspectedCes, odsOf, odsReference } from '@imaging/fhir';
import type { AcknowledgedAlertCategory } from '@imaging/fhir';
import { roleReference } from './alert-recipients.ts';
import type { ActorReference } from './alert-task.ts';
import type { GatewayDeps } from './ports.ts';

/**
 * Suspected cauda equina syndrome (DOMAIN.md §3-4, requirement 19): the MRI is due within 4 hours of the
 * request (the turnaround rules), and a positive finding, a CRITICAL report on the MRI, goes at once to
 * the spinal on-call team as well as to the requester, so surgery can be arranged day or night.
 *
 * The team is the performing trust's PractitionerRole with the alert role `spinal-on-call` in the hub's
 * directory. Without one (none listed, none active, or the directory unreachable), the trust itself is
 * named, so the finding is never dropped: a CRITICAL alert is not held up waiting for the directory.
 */
export async function spinalOnCallRecipients(
  deps: GatewayDeps,
  order: ServiceRequest,
  category: AcknowledgedAlertCategory,
): Promise<ActorReference[]> {
  if (category !== 'CRITICAL' || !isSuspectedCes(order)) return [];
  const trust = odsOf(order.performer?.[0]);
  if (!trust) return [];
  const fallback = (reason: string): ActorReference[] => {
    deps.logger.error(`${reason}: the CES finding goes to the trust itself`, { trust });
    return [odsReference(trust, `Spinal on-call team, ${trust}`)];
  };
  try {
    const team = (await deps.hub.findAlertRoles({ ods: trust }))?.find((r) => r.role === 'spinal-on-call' && r.active);
    return team ? [roleReference(team)] : fallback(`no active spinal on-call team for ${trust} in the directory`);
  } catch (err) {
    if (!isOutcomeError(err) || err.status < 500) throw err;
    return fallback(`directory unavailable (${err.message})`);
  }
}
