import { badGateway, forbidden, nhsNumberOf, OutcomeError, unavailable, unprocessable } from '@imaging/fhir';
import {
  checkMessageAuthority,
  checkRoutingHeaders,
  isMessageRefusal,
  MESSAGE_HEADERS,
  parseMessage,
  routingHeaders,
} from '@imaging/messaging';
import type { ParsedMessage, RawRoutingHeaders, RoutingHeaders } from '@imaging/messaging';
import type { Bundle, Identifier, OperationOutcome, Patient, Reference, Resource } from '@medplum/fhirtypes';
import { recordAudit } from './audit.ts';
import type { Caller } from '@imaging/fhir';
import { assertKind, regionOf } from './caller.ts';
import type { RegionService } from './directory.ts';
import type { HubDomainDeps } from './ports.ts';

export interface Relayed {
  status: number;
  body: Resource;
}

/**
 * The cross-region router (after the BaRS proxy): it checks who is sending what to whom, looks the
 * target service up in the directory, checks the sender's authority over the content against the
 * directory (`checkMessageAuthority`, which the receiver applies again with its stored case), forwards
 * the message with the hub's own token, and relays the answer. It keeps no message: when the receiver
 * cannot be reached the sender is told 503 and retries with the same X-Request-ID (the receiver drops
 * repeats); a refusal (4xx) is relayed as it is, so the sender parks the message instead.
 */

/**
 * Routes one message. Refusals of the envelope (400/403/422: headers, shape, sender, target) deliver
 * nothing and write nothing. From the content check on, an AuditEvent records what happened: a 403
 * when the sender has no authority over the content (nothing forwarded), else the disclosure and how
 * it ended.
 */
export async function routeMessage(
  deps: HubDomainDeps,
  caller: Caller,
  bundle: Bundle,
  raw: RawRoutingHeaders,
): Promise<Relayed> {
  assertKind(caller, ['gateway'], 'route messages');
  const headers = checkRoutingHeaders(raw);
  const message = parseMessage(bundle);

  const senderRegion = regionOf(caller);
  const sender = await deps.directory.findRegion(senderRegion);
  if (!sender)
    throw new OutcomeError(forbidden(`Region ${senderRegion} of ${caller.clientId} is not in the directory`));
  if (message.sourceService !== sender.serviceId) {
    deps.logger.warn('spoofed message source refused', {
      client: caller.clientId,
      claimed: message.sourceService,
      correlationId: headers.correlationId,
    });
    throw new OutcomeError(
      forbiddenAt(
        `${caller.clientId} sends for ${sender.serviceId}, not ${message.sourceService}`,
        'Bundle.entry[0].resource.source.endpoint',
      ),
    );
  }
  if (message.destinationService !== headers.target) {
    throw new OutcomeError(
      unprocessable(
        `MessageHeader.destination[0].endpoint (${message.destinationService}) does not match ${MESSAGE_HEADERS.target} (${headers.target})`,
        'Bundle.entry[0].resource.destination[0].endpoint',
      ),
    );
  }
  const receiver = await deps.directory.findService(headers.target);
  if (!receiver) {
    throw new OutcomeError(
      unprocessable(
        `No active service '${headers.target}' is in the directory: nothing was delivered`,
        `http.${MESSAGE_HEADERS.target}`,
        'not-found',
      ),
    );
  }

  const authority = await checkMessageAuthority(message, {
    sender: sender.serviceId,
    receiver: receiver.serviceId,
    serviceOf: async (ods) => (await deps.directory.findOrganisationRegion(ods))?.serviceId,
  });
  const relayed = authority.authorised
    ? await forward(deps, receiver, bundle, headers)
    : { status: 403, body: authority.refusal };
  await recordAudit(
    deps.store,
    {
      subtype: 'message-routed',
      action: 'E',
      from: { caller },
      to: { regionId: receiver.regionId, ...(receiver.regionName ? { regionName: receiver.regionName } : {}) },
      requestor: 'from',
      nhsNumbers: nhsNumbersIn(message),
      data: [{ what: focusReference(message), detail: { event: `${message.event.system}|${message.event.code}` } }],
      requestId: headers.requestId,
      correlationId: headers.correlationId,
      outcome: { status: relayed.status, text: outcomeText(relayed) },
      recorded: deps.clock.now(),
      observer: deps.hubUrl,
    },
    {
      // The message was parsed (validated against base R4) and the headers checked above; the rest is the
      // directory's and the token's. What the event quotes of the message keeps its R4 type (an identifier's
      // system and value), so it is as valid here as it was there.
      fromValidated: true,
    },
  );
  const log = {
    correlationId: headers.correlationId,
    requestId: headers.requestId,
    from: sender.serviceId,
    to: receiver.serviceId,
    event: message.event.code,
    status: relayed.status,
  };
  if (relayed.status < 400) deps.logger.info('message routed', log);
  else if (!authority.authorised)
    deps.logger.warn('message refused: the sender has no authority over its content', {
      ...log,
      client: caller.clientId,
      reason: outcomeText(relayed),
    });
  else deps.logger.warn('message not delivered', log);
  return relayed;
}

function forbiddenAt(text: string, expression: string): OperationOutcome {
  const outcome = forbidden(text);
  return { ...outcome, issue: (outcome.issue ?? []).map((i) => ({ ...i, expression: [expression] })) };
}

/** Forwards with the same three headers; maps the receiver's answer to what the sender is told. */
async function forward(
  deps: HubDomainDeps,
  receiver: RegionService,
  bundle: Bundle,
  headers: RoutingHeaders,
): Promise<Relayed> {
  const result = await deps.regions.call<Resource>(`${receiver.address}/$process-message`, {
    method: 'POST',
    body: bundle,
    headers: routingHeaders(headers),
  });
  if (!result.answered) {
    return {
      status: 503,
      body: unavailable(
        `${receiver.serviceId} could not be reached (${result.reason}); the message was not delivered, try again later`,
      ),
    };
  }
  if (result.ok) {
    if (!result.body || typeof result.body !== 'object' || typeof result.body.resourceType !== 'string') {
      return {
        status: 502,
        body: badGateway(`${receiver.serviceId} answered ${result.status} without a FHIR response`),
      };
    }
    return { status: result.status, body: result.body };
  }
  if (result.status >= 500)
    return { status: 502, body: badGateway(`${receiver.serviceId} failed (${result.status}): ${result.text}`) };
  // The receiver refusing the hub's own token is the hub's or the receiver's set-up, not the sender's
  // message; refusing the message's content is the message's, and the sender must hear so (not retry).
  if (result.status === 401 || (result.status === 403 && !isMessageRefusal(result.outcome))) {
    return {
      status: 502,
      body: badGateway(`${receiver.serviceId} refused the hub's credentials (${result.status}): ${result.text}`),
    };
  }
  return { status: result.status, body: result.outcome };
}

function outcomeText(relayed: Relayed): string {
  if (relayed.body.resourceType === 'OperationOutcome') {
    return (
      (relayed.body.issue ?? []).map((i) => i.details?.text ?? i.diagnostics ?? i.code).join('; ') ||
      `${relayed.status}`
    );
  }
  return `${relayed.status} delivered`;
}

/** The message's patients: a carried Patient's NHS number, or those of logical subject/for references. */
export function nhsNumbersIn(message: ParsedMessage): string[] {
  const found = new Set<string>();
  for (const { resource } of message.entries) {
    if (resource.resourceType === 'Patient') {
      const nhs = nhsNumberOf(resource as Patient);
      if (nhs) found.add(nhs);
      continue;
    }
    for (const key of ['subject', 'for', 'patient'] as const) {
      const ref = (resource as unknown as Record<string, unknown>)[key] as Reference | undefined;
      const nhs = ref && typeof ref === 'object' ? nhsNumberOf(ref) : undefined;
      if (nhs) found.add(nhs);
    }
  }
  return [...found];
}

/** The focus by its business identifier (shared by every copy in every region), else by type. */
function focusReference(message: ParsedMessage): Reference {
  const focus = message.focus.resource as Resource & { identifier?: Identifier | Identifier[] };
  const identifiers = Array.isArray(focus.identifier) ? focus.identifier : focus.identifier ? [focus.identifier] : [];
  const identifier = identifiers.find((i) => i.system && i.value);
  return identifier
    ? { type: focus.resourceType, identifier: { system: identifier.system, value: identifier.value } }
    : {
        type: focus.resourceType,
        display: `${focus.resourceType} carried by message ${message.header.id ?? ''}`.trim(),
      };
}
