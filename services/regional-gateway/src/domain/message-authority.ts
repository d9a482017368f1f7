import { OutcomeError } from '@imaging/fhir';
import type { ParsedMessage, SenderRole, StoredCase } from '@imaging/messaging';
import { checkMessageAuthority } from '@imaging/messaging';
import { otherRequestersOfCase } from './case-ownership.ts';
import type { GatewayDeps } from './ports.ts';

/**
 * The sender's authority over the message's content, checked again here (the hub checked it before
 * forwarding) with this region's directory lookups and, for a case it holds, its stored copy. The sender
 * is the MessageHeader source the hub checked against the sender's credentials. A refusal is a 403 and
 * writes nothing; the gateway keeps no audit trail of its own, so it is logged here, and the sender
 * parks the message with the reason.
 */
export async function authorise(deps: GatewayDeps, message: ParsedMessage, stored?: StoredCase): Promise<SenderRole> {
  const authority = await checkMessageAuthority(message, {
    sender: message.sourceService,
    receiver: deps.region.serviceId,
    serviceOf: async (ods) => (await deps.hub.findService(ods))?.serviceId,
    otherRequestersOfCase: (correlationId, requester) => otherRequestersOfCase(deps.store, correlationId, requester),
    ...(stored ? { stored } : {}),
  });
  if (authority.authorised) return authority.role;
  const error = new OutcomeError(authority.refusal);
  deps.logger.warn('message refused: the sender has no authority over its content', {
    event: message.event.code,
    from: message.sourceService,
    reason: error.message,
  });
  throw error;
}
