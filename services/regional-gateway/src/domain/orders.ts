import type { Bundle, BundleEntry, Identifier, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import {
  builtFromValidated,
  CODE_SYSTEMS,
  forbidden,
  issue,
  odsOf,
  OutcomeError,
  Problems,
  retryOnConflict,
  SYSTEMS,
  unprocessable,
  validationFindingsWithBuiltElement,
} from '@imaging/fhir';
import type { Caller, PlacedOrder, WithId } from '@imaging/fhir';
import {
  buildMessage,
  fulfilmentTaskIdentifier,
  MESSAGE_HEADERS,
  ORDER_REQUEST,
  requestIdFor,
} from '@imaging/messaging';
import { testWatchEntries } from './breaches.ts';
import { otherRequestersOfCase } from './case-ownership.ts';
import { createdAudit } from './change-audits.ts';
import { identifierQuery } from './identifiers.ts';
import { labelledAs, withAccess } from './labels.ts';
import { deliveryEntries } from './outbox.ts';
import { nhsNumbersOf } from './patient-cache.ts';
import { resolvePatient } from './patients.ts';
import type { GatewayDeps } from './ports.ts';
import { admitWellFormed } from './references.ts';
import { entryResource, isCreated, runTransaction } from './transactions.ts';

/** A placed order, as the gateway that took it knows it: also where it sent the order. */
export interface RoutedOrder extends PlacedOrder {
  /** The service the order was routed to, when its performer is served by another region. */
  routedTo?: string;
}

export interface PlaceOrderOptions {
  /**
   * The correlation id was made up for this request (RequestVars.correlationMinted), so it names a new
   * case no other requester can be in: the search for other requesters of the case is skipped. Default
   * false: an id a client gave (X-Correlation-ID, or X-Request-ID standing for it) is checked.
   */
  correlationMinted?: boolean;
}

/**
 * A referrer places an imaging order. The order and its fulfilment Task are stored; when the performer
 * is served by another region, the routed message is stored with them, in the same transaction, as a
 * pending delivery. Placing the same order again (same placer order number) stores nothing new.
 */
export function placeOrder(
  deps: GatewayDeps,
  caller: Caller,
  order: ServiceRequest,
  correlationId: string,
  options: PlaceOrderOptions = {},
): Promise<RoutedOrder> {
  return retryOnConflict(() => placeOrderOnce(deps, caller, order, correlationId, options));
}

async function placeOrderOnce(
  deps: GatewayDeps,
  caller: Caller,
  incoming: ServiceRequest,
  correlationId: string,
  { correlationMinted = false }: PlaceOrderOptions,
): Promise<RoutedOrder> {
  if (caller.kind !== 'referrer' || !caller.organisation)
    throw new OutcomeError(forbidden('Only a referrer may place an order'));
  // Every problem with the order is reported in one response: each check adds to `problems`, and only
  // a malformed order (400), a refusal of the caller (403) or an unreachable hub ends the request early.
  const problems = new Problems();
  const { admitted: order, findings } = await admitWellFormed(deps, caller, incoming, problems);
  const requester = odsOf(order.requester);
  if (requester && requester !== caller.organisation) {
    throw new OutcomeError(
      forbidden(`${caller.clientId} acts for ${caller.organisation} and cannot place orders for ${requester}`),
    );
  }
  if (!requester) problems.add(odsProblem('requester', 'ServiceRequest.requester'));
  else if (!correlationMinted && (await otherRequestersOfCase(deps.store, correlationId, requester)).length) {
    // Whose orders they are is not said: a caller that guessed a case's name learns no more than that.
    throw new OutcomeError(
      forbidden(
        `The case ${correlationId} (X-Correlation-ID) holds another organisation's orders: send a correlation id of your own, or none`,
        `http.${MESSAGE_HEADERS.correlationId}`,
      ),
    );
  }
  const performer = odsOf(order.performer?.[0]);
  if (!performer) problems.add(odsProblem('performer', 'ServiceRequest.performer[0]'));
  const placer = await problems.check(() => placerIdentifier(order, caller.organisation as string));
  const patient = await problems.check(() => resolvePatient(deps, caller, order.subject, 'ServiceRequest.subject'));
  const localOrder: ServiceRequest = patient ? { ...order, subject: { reference: `Patient/${patient.id}` } } : order;
  // The profile, on the order as it will be stored, so its problems are reported at ServiceRequest.*
  // rather than inside the transaction that stores it. Only the subject differs from the order validated
  // above, and the gateway built it (a literal reference to its own stored Patient): base R4's findings
  // for the rest carry over instead of the whole order being validated again.
  const localFindings =
    localOrder === order ? findings : validationFindingsWithBuiltElement(order, localOrder, 'subject');
  problems.add(...localFindings.rules);
  const location = performer ? await deps.hub.findService(performer) : undefined;
  if (performer && !location)
    problems.add(
      issue({
        code: 'business-rule',
        text: `Unknown performer: no region serves ODS code ${performer}`,
        expression: 'ServiceRequest.performer[0]',
      }),
    );
  problems.throwIfAny();
  // Each of these, when missing, added a problem above.
  if (!requester || !performer || !placer || !patient || !location)
    throw new Error('placeOrder: a missing part of the order was not reported');
  const remote = location.serviceId !== deps.region.serviceId ? location.serviceId : undefined;

  const now = deps.clock.now().toISOString();
  const share = <T extends ServiceRequest | Task>(r: T) => labelledAs(r, [requester, performer], remote);
  // What this transaction stores is built here from the order validated above (as it will be stored,
  // bar the labels) and from this store's own Patient: the store need not validate it all again.
  const serviceRequest = builtFromValidated(share<ServiceRequest>(localOrder));
  const taskIdentifier = fulfilmentTaskIdentifier(placer);
  const task = share<Task>({
    resourceType: 'Task',
    identifier: [taskIdentifier],
    groupIdentifier: { system: SYSTEMS.correlation, value: correlationId },
    status: 'requested',
    intent: 'order',
    ...(order.priority ? { priority: order.priority } : {}),
    code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: 'fulfil' }] },
    for: { reference: `Patient/${patient.id}` },
    authoredOn: now,
    lastModified: now,
    ...(order.requester ? { requester: order.requester } : {}),
    ...(order.performer?.[0] ? { owner: order.performer[0] } : {}),
  });

  const srUrl = `urn:uuid:${crypto.randomUUID()}`;
  const taskUrl = `urn:uuid:${crypto.randomUUID()}`;
  const entries: BundleEntry[] = [
    {
      fullUrl: srUrl,
      resource: serviceRequest,
      request: { method: 'POST', url: 'ServiceRequest', ifNoneExist: identifierQuery(placer) },
    },
    {
      fullUrl: taskUrl,
      resource: builtFromValidated({ ...task, focus: { reference: srUrl } }),
      request: { method: 'POST', url: 'Task', ifNoneExist: identifierQuery(taskIdentifier) },
    },
    createdAudit(deps, caller, {
      subtype: 'order-placed',
      description: 'An imaging order placed',
      what: [{ reference: srUrl }, { reference: taskUrl }],
      identifier: placer,
      patient: { reference: `Patient/${patient.id}` },
      correlationId,
      detail: { performer, ...(remote ? { 'routed-to': remote } : {}) },
    }),
  ];
  // The region serving the performer watches the order's turnaround; a routed order is watched on arrival.
  if (!remote)
    entries.push(
      ...testWatchEntries(deps, {
        order: serviceRequest,
        orderUrl: srUrl,
        patient: { reference: `Patient/${patient.id}` },
        correlationId,
        organisations: [requester, performer],
      }),
    );
  // The requester, who may read the patient, shares it with the performer it orders from. The PUT is
  // there even when no label is added: its If-Match makes the whole order conditional on the Patient the
  // access check above read (perhaps a remembered copy) still being the stored one. Unchanged, it writes
  // no new version (both stores skip an update that changes nothing).
  const labelledPatient = withAccess(patient, [requester, performer]);
  const patientEntry = entries.length;
  entries.push({
    resource: builtFromValidated(labelledPatient),
    request: { method: 'PUT', url: `Patient/${patient.id}`, ifMatch: `W/"${patient.meta?.versionId}"` },
  });
  if (remote) {
    const message = builtFromValidated(
      buildMessage({
        event: ORDER_REQUEST,
        timestamp: now,
        sourceService: deps.region.serviceId,
        destinationService: remote,
        focus: { ...serviceRequest, id: 'order' },
        resources: [labelledPatient, { ...task, id: 'task', focus: { reference: 'ServiceRequest/order' } }],
        identifierOf: () => undefined,
      }),
    );
    entries.push(
      ...deliveryEntries(
        {
          kind: 'deliver-message',
          requestId: requestIdFor('order-request', taskIdentifier.value as string),
          correlationId,
          destination: remote,
          message,
          patient: { reference: `Patient/${patient.id}` },
        },
        deps.region.regionId,
        deps.clock.now(),
      ),
    );
  }
  const response = await storeOrder(deps, patient, entries);
  const storedPatient = response.entry?.[patientEntry]?.resource;
  if (storedPatient?.resourceType === 'Patient') deps.patients?.remember(storedPatient as WithId<Patient>);
  return {
    serviceRequest: entryResource<ServiceRequest>(response, 0),
    task: entryResource<Task>(response, 1),
    created: isCreated(response, 0),
    ...(remote ? { routedTo: remote } : {}),
  };
}

/** Stores the order; a 412 means the Patient changed since it was read, so the copy remembered is dropped. */
async function storeOrder(deps: GatewayDeps, patient: Patient, entries: BundleEntry[]): Promise<Bundle> {
  try {
    return await runTransaction(deps.store, entries);
  } catch (err) {
    if (err instanceof OutcomeError && err.status === 412)
      for (const nhs of nhsNumbersOf(patient)) deps.patients?.forget(nhs);
    throw err;
  }
}

function odsProblem(role: 'requester' | 'performer', expression: string) {
  return issue({
    code: 'business-rule',
    text: `The ${role} must be an organisation identified by its ODS code`,
    expression,
  });
}

/**
 * The placer order number is the order's business identifier in every region, so it must be unique
 * nationally: its value is namespaced by the placer's ODS code (`N81001-000123`).
 */
function placerIdentifier(order: ServiceRequest, requester: string): Identifier {
  const index = order.identifier?.findIndex((i) => i.system === SYSTEMS.placerOrder) ?? -1;
  const placer = index >= 0 ? order.identifier?.[index] : undefined;
  if (!placer?.value) {
    throw new OutcomeError(
      unprocessable(
        `An order needs a placer order number (identifier with system ${SYSTEMS.placerOrder})`,
        'ServiceRequest.identifier',
      ),
    );
  }
  if (!placer.value.startsWith(`${requester}-`)) {
    throw new OutcomeError(
      unprocessable(
        `The placer order number must start with the placer's ODS code: ${requester}-…`,
        `ServiceRequest.identifier[${index}].value`,
      ),
    );
  }
  return placer;
}
