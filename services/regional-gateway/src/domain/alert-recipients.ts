import { odsReference, SYSTEMS } from '@imaging/fhir';
import type { AlertRole, AlertStep } from '@imaging/fhir';
import type { ActorReference, LadderKind, NewAlert } from './alert-task.ts';
import { LADDERS } from './alert-task.ts';
import type { DirectoryRole, GatewayDeps } from './ports.ts';

/**
 * Who an alert goes to at each step of its ladder, as the hub's directory says: the requesting clinician
 * (or the requesting organisation), their delegate, the responsible consultant or GP practice, and the
 * network's fail-safe officer. Someone who has left (an inactive PractitionerRole), or an organisation the
 * directory does not know, cannot receive: that step is passed at once. The fail-safe officer always
 * receives: without one in the directory, the network itself is named, so nothing is ever dropped.
 */

export interface Recipient {
  step: AlertStep;
  reference: ActorReference;
  /** Why nobody at this step can receive the alert; absent when someone can. */
  cannotReceive?: string;
}

/** A step passed because nobody there could receive the alert. */
export interface SkippedStep {
  step: AlertStep;
  reason: string;
}

export interface Climb {
  /** The first step, from where the climb began, where someone can receive the alert. */
  recipient: Recipient;
  skipped: SkippedStep[];
}

/** Who an alert (or a turnaround breach) is between: its ladder, its owner, and the performer. */
export type AlertParties = Pick<NewAlert, 'owner' | 'ownerOrganisation' | 'performer'> & { kind: LadderKind };

export function roleReference(role: DirectoryRole): ActorReference {
  return {
    type: 'PractitionerRole',
    identifier: { system: SYSTEMS.practitionerRole, value: role.id },
    display: role.name,
  };
}

/** Climbs the alert's ladder from step `from` (an index) to the first step where someone can receive it. */
export async function climbLadder(deps: GatewayDeps, alert: AlertParties, from: number): Promise<Climb> {
  const ladder = LADDERS[alert.kind];
  const skipped: SkippedStep[] = [];
  for (let index = Math.min(from, ladder.length - 1); ; index++) {
    const recipient = await recipientAt(deps, alert, ladder[index] as AlertStep);
    if (!recipient.cannotReceive || index >= ladder.length - 1) return { recipient, skipped };
    skipped.push({ step: recipient.step, reason: recipient.cannotReceive });
  }
}

/** The one step after the alert's current one (the last step repeats). */
export function nextStepIndex(alert: { kind: LadderKind; step: AlertStep }): number {
  const ladder = LADDERS[alert.kind];
  return Math.min(ladder.indexOf(alert.step) + 1, ladder.length - 1);
}

/** The alert's recipient at one step. Throws (5xx) when the directory cannot be reached. */
export async function recipientAt(deps: GatewayDeps, alert: AlertParties, step: AlertStep): Promise<Recipient> {
  const org = alert.ownerOrganisation;
  const cannot = (reason: string): Recipient => ({ step, reference: alert.owner, cannotReceive: reason });
  const active = (roles: DirectoryRole[], role: AlertRole) => roles.find((r) => r.role === role && r.active);
  switch (step) {
    case 'watching':
      return { step, reference: odsReference(alert.performer) };
    case 'fail-safe-officer': {
      const roles = (await deps.hub.findAlertRoles({ region: deps.region.regionId })) ?? [];
      const officer = active(roles, 'fail-safe-officer');
      if (officer) return { step, reference: roleReference(officer) };
      deps.logger.error('no active fail-safe officer in the directory: the alert goes to the network itself', {
        region: deps.region.regionId,
      });
      return {
        step,
        reference: { type: 'Organization', identifier: { system: SYSTEMS.region, value: deps.region.regionId } },
      };
    }
    default:
      break;
  }
  const roles = await deps.hub.findAlertRoles({ ods: org });
  if (!roles) return cannot(`${org} is not in the directory`);
  // The first step: the owner as the order names them (a breach's owner is the imaging provider itself).
  if (step === 'requester' || step === 'provider') {
    const named =
      alert.owner.identifier?.system === SYSTEMS.practitionerRole ? alert.owner.identifier.value : undefined;
    if (!named) return { step, reference: alert.owner };
    const role = roles.find((r) => r.id === named);
    if (!role) return cannot(`${named} is not one of ${org}'s people in the directory`);
    if (!role.active) return cannot(`${role.name} (${named}) is no longer active at ${org}`);
    return { step, reference: roleReference(role) };
  }
  if (step === 'delegate') {
    const delegate = active(roles, 'delegate');
    return delegate ? { step, reference: roleReference(delegate) } : cannot(`${org} has no active delegate`);
  }
  // The responsible consultant or GP; without one, the organisation itself (a GP practice's shared inbox).
  const responsible = active(roles, 'responsible-clinician');
  return { step, reference: responsible ? roleReference(responsible) : odsReference(org) };
}
