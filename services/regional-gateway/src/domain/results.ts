import type {
  BundleEntry,
  DiagnosticReport,
  Endpoint,
  ImagingStudy,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import {
  forbidden,
  issue,
  odsOf,
  OutcomeError,
  Problems,
  SYSTEMS,
  unprocessable,
  unprocessableIssues,
  validationFindings,
} from '@imaging/fhir';
import type { WithId, Caller } from '@imaging/fhir';
import { buildMessage, REPORT_ISSUED, requestIdFor } from '@imaging/messaging';
import { caseOf, notifyCancerMdt, raiseAlert, raiseWatch } from './alerts.ts';
import { reportWatchEntries } from './breaches.ts';
import { createdAudit } from './change-audits.ts';
import { orderEntries, orderReference } from './result-order.ts';
import { businessIdentifier, identifierQuery } from './identifiers.ts';
import { accessOrganisations, labelledAs, peerOf } from './labels.ts';
import { deliveryEntries, LOCATOR_DESTINATION } from './outbox.ts';
import type { GatewayDeps } from './ports.ts';
import { admitWellFormed, assertOwnIdentifier, identifierLookup } from './references.ts';
import { readVisible } from './reads.ts';
import { citedStudyProblems } from './report-studies.ts';
import { entryResource, isCreated, runTransaction } from './transactions.ts';

export interface Recorded<T extends Resource> {
  resource: WithId<T>;
  created: boolean;
}

/**
 * The imaging provider records a study. It stays in this region; a pointer to it is registered with
 * the national locator (as a pending delivery, in the same transaction), so other regions can find it.
 */
export async function recordImagingStudy(
  deps: GatewayDeps,
  caller: Caller,
  incoming: ImagingStudy,
  correlationId: string,
): Promise<Recorded<ImagingStudy>> {
  assertProvider(caller, 'ImagingStudy');
  const problems = new Problems();
  const { admitted: study, findings } = await admitWellFormed(deps, caller, incoming, problems);
  const order = await problems.check(() => orderPerformedBy(deps, caller, study.basedOn, 'ImagingStudy'));
  if (order) await problems.check(() => checkSameSubject(order, study.subject, 'ImagingStudy.subject'));
  const uid = businessIdentifier(study);
  if (uid) await problems.check(() => assertOwnIdentifier(deps, caller, study, uid));
  else
    problems.add(
      issue({
        code: 'business-rule',
        text: 'An ImagingStudy needs its Study Instance UID (system urn:dicom:uid)',
        expression: 'ImagingStudy.identifier',
      }),
    );
  problems.add(...findings.rules);
  problems.throwIfAny();
  if (!order || !uid) throw new Error('recordImagingStudy: a missing order or UID was not reported');
  const stored = labelledAs(study, accessOrganisations(order));
  const caseId = await caseOf(deps, order, correlationId);
  const studyUrl = `urn:uuid:${crypto.randomUUID()}`;
  const entries: BundleEntry[] = [
    {
      fullUrl: studyUrl,
      resource: stored,
      request: { method: 'POST', url: 'ImagingStudy', ifNoneExist: identifierQuery(uid) },
    },
    createdAudit(deps, caller, {
      subtype: 'study-recorded',
      description: 'An imaging study recorded',
      what: [{ reference: studyUrl }, { reference: `ServiceRequest/${order.id}` }],
      identifier: uid,
      ...(order.subject ? { patient: order.subject } : {}),
      correlationId: caseId,
    }),
    ...pointerDelivery(deps, studyUrl, 'ImagingStudy', uid.value as string, study, correlationId),
    // The exam starts the report's due times: the first study of the order starts its report watch.
    ...reportWatchEntries(deps, { order, study, studyUrl, correlationId: caseId }),
  ];
  const response = await runTransaction(deps.store, entries);
  return { resource: entryResource<ImagingStudy>(response, 0), created: isCreated(response, 0) };
}

/**
 * The imaging provider issues a report. It is registered with the locator and, when the order came from
 * another region, sent back to that region for the referrer, with the studies it cites: both as pending
 * deliveries stored in the same transaction as the report. A report with an alert (any category but NONE)
 * raises it in the same transaction: for a requester in this region, its acknowledgement Task and
 * Communication; for one in another region (which raises them on receipt), this region's watch on it. A
 * CANCER alert also tells the performing trust's cancer MDT, here, where the report is issued.
 */
export async function issueReport(
  deps: GatewayDeps,
  caller: Caller,
  incoming: DiagnosticReport,
  correlationId: string,
): Promise<Recorded<DiagnosticReport>> {
  assertProvider(caller, 'DiagnosticReport');
  const problems = new Problems();
  const { admitted: report } = await admitWellFormed(deps, caller, incoming, problems);
  const order = await problems.check(() => orderPerformedBy(deps, caller, report.basedOn, 'DiagnosticReport'));
  if (order) await problems.check(() => checkSameSubject(order, report.subject, 'DiagnosticReport.subject'));
  if (order)
    for (const cited of await citedStudyProblems(deps.store, report, `ServiceRequest/${order.id}`))
      problems.add(
        issue({ text: cited.text, code: 'business-rule', expression: `DiagnosticReport.imagingStudy[${cited.index}]` }),
      );
  const performer = odsOf(order?.performer?.[0]);
  const identifier = performer ? await problems.check(() => reportIdentifier(report, performer)) : undefined;
  const withIdentifier: DiagnosticReport = identifier
    ? { ...report, identifier: [...(report.identifier ?? []).filter((i) => i.system !== SYSTEMS.report), identifier] }
    : report;
  // The profile on the report as it will be stored; without an order, a report identifier the client
  // left out is not its problem (the server assigns one).
  const rules = validationFindings(withIdentifier).rules;
  problems.add(...(identifier ? rules : rules.filter((i) => i.expression?.[0] !== 'DiagnosticReport.identifier')));
  problems.throwIfAny();
  if (!order || !identifier) throw new Error('issueReport: a missing order or identifier was not reported');
  const stored = labelledAs(withIdentifier, accessOrganisations(order));
  const reportUrl = `urn:uuid:${crypto.randomUUID()}`;
  const entries: BundleEntry[] = [
    {
      fullUrl: reportUrl,
      resource: stored,
      request: { method: 'POST', url: 'DiagnosticReport', ifNoneExist: identifierQuery(identifier) },
    },
    ...pointerDelivery(deps, reportUrl, 'DiagnosticReport', identifier.value as string, stored, correlationId),
  ];
  const peer = peerOf(order);
  if (peer) entries.push(...(await reportDelivery(deps, stored, peer, correlationId)));
  const issued = {
    report: stored,
    reportUrl,
    order,
    issuedAt: deps.clock.now(),
    correlationId: await caseOf(deps, order, correlationId),
  };
  entries.push(...(peer ? await raiseWatch(deps, issued) : await raiseAlert(deps, issued)));
  entries.push(...(await notifyCancerMdt(deps, issued)));
  entries.push(
    createdAudit(deps, caller, {
      subtype: 'report-issued',
      description: 'A diagnostic report issued',
      what: [{ reference: reportUrl }, { reference: `ServiceRequest/${order.id}` }],
      identifier,
      ...(order.subject ? { patient: order.subject } : {}),
      correlationId: issued.correlationId,
      detail: { status: stored.status, ...(peer ? { 'sent-to': peer } : {}) },
    }),
  );
  const response = await runTransaction(deps.store, entries);
  return { resource: entryResource<DiagnosticReport>(response, 0), created: isCreated(response, 0) };
}

/**
 * The one order a result is based on: the pathway maps one order to one study and one report, so a second
 * order in basedOn is refused (422 at it), or one study or report would meet other orders' due times,
 * close their breaches and complete their Tasks. The order must be one the caller may read (by the read
 * rule, so an order it may not see is the same 422 as one that does not exist, at the same element as the
 * admission's), and performs.
 */
async function orderPerformedBy(
  deps: GatewayDeps,
  caller: Caller,
  basedOn: { reference?: string }[] | undefined,
  type: string,
): Promise<WithId<ServiceRequest>> {
  const [first, ...more] = orderEntries(basedOn);
  if (more.length)
    throw new OutcomeError(
      unprocessableIssues(
        more.map(({ index }) =>
          issue({
            code: 'business-rule',
            text: `A ${type} is based on one order: ${basedOn?.[index]?.reference ?? 'this reference'} is a second`,
            expression: `${type}.basedOn[${index}]`,
          }),
        ),
      ),
    );
  const ref = orderReference(first?.ref);
  if (!first || !ref)
    throw new OutcomeError(
      unprocessable(
        `A ${type} must be based on the order (basedOn ServiceRequest/…)`,
        first ? `${type}.basedOn[${first.index}]` : `${type}.basedOn`,
      ),
    );
  const index = first.index;
  const order = await readVisible<ServiceRequest>(deps, caller, 'ServiceRequest', ref.split('/')[1] as string).catch(
    (err: unknown) => {
      if (err instanceof OutcomeError && err.status < 500)
        throw new OutcomeError(unprocessable(`${ref} is not an order you may read here`, `${type}.basedOn[${index}]`));
      throw err;
    },
  );
  if (odsOf(order.performer?.[0]) !== caller.organisation) {
    throw new OutcomeError(forbidden(`${caller.organisation} is not the performer of ${ref}`));
  }
  return order;
}

function assertProvider(caller: Caller, type: string): void {
  if (caller.kind !== 'provider' || !caller.organisation)
    throw new OutcomeError(forbidden(`Only an imaging provider may record a ${type}`));
}

/** A study or report is for its order's patient: the one rule, at the performer and at the requester's region. */
export function checkSameSubject(
  order: ServiceRequest,
  subject: { reference?: string } | undefined,
  expression: string,
): void {
  if (subject?.reference !== order.subject?.reference) {
    throw new OutcomeError(
      unprocessable(`The subject must be the order's patient (${order.subject?.reference})`, expression),
    );
  }
}

/** A report's business identifier, namespaced by the performer's ODS code; assigned when absent. */
function reportIdentifier(report: DiagnosticReport, performer: string) {
  const given = report.identifier?.find((i) => i.system === SYSTEMS.report);
  if (!given?.value) return { system: SYSTEMS.report, value: `${performer}-${crypto.randomUUID()}` };
  if (!given.value.startsWith(`${performer}-`)) {
    throw new OutcomeError(
      unprocessable(
        `The report identifier must start with the performer's ODS code: ${performer}-…`,
        'DiagnosticReport.identifier',
      ),
    );
  }
  return given;
}

function pointerDelivery(
  deps: GatewayDeps,
  resourceUrl: string,
  type: string,
  key: string,
  resource: { subject?: { reference?: string } },
  correlationId: string,
): BundleEntry[] {
  return deliveryEntries(
    {
      kind: 'register-pointer',
      requestId: requestIdFor('pointer', deps.region.serviceId, type, key),
      correlationId,
      destination: LOCATOR_DESTINATION,
      pointerTo: { reference: resourceUrl },
      ...(resource.subject?.reference ? { patient: { reference: resource.subject.reference } } : {}),
    },
    deps.region.regionId,
    deps.clock.now(),
  );
}

async function reportDelivery(
  deps: GatewayDeps,
  report: DiagnosticReport,
  peer: string,
  correlationId: string,
): Promise<BundleEntry[]> {
  const studies: WithId<ImagingStudy>[] = [];
  for (const ref of report.imagingStudy ?? []) {
    if (ref.reference?.startsWith('ImagingStudy/'))
      studies.push(await deps.store.read<ImagingStudy>('ImagingStudy', ref.reference.split('/')[1] as string));
  }
  const endpoints: WithId<Endpoint>[] = [];
  for (const ref of studies.flatMap((s) => s.endpoint ?? [])) {
    if (ref.reference?.startsWith('Endpoint/'))
      endpoints.push(await deps.store.read<Endpoint>('Endpoint', ref.reference.split('/')[1] as string));
  }
  const focus = { ...report, id: 'report' };
  const identifierOf = await identifierLookup(deps.store, [report, ...studies], businessIdentifier);
  const now = deps.clock.now();
  const message = buildMessage({
    event: REPORT_ISSUED,
    timestamp: now.toISOString(),
    sourceService: deps.region.serviceId,
    destinationService: peer,
    focus,
    resources: [...studies, ...endpoints],
    identifierOf,
  });
  const key = businessIdentifier(report)?.value as string;
  return deliveryEntries(
    {
      kind: 'deliver-message',
      requestId: requestIdFor('report-issued', key),
      correlationId,
      destination: peer,
      message,
      ...(report.subject ? { patient: report.subject } : {}),
    },
    deps.region.regionId,
    now,
  );
}
