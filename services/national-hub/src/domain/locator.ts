import {
  assertValid,
  badGateway,
  CODE_SYSTEMS,
  conflict,
  forbidden,
  invalid,
  issue,
  isValidNhsNumber,
  NHS_NUMBER_SYSTEM,
  nhsNumberOf,
  notFound,
  OutcomeError,
  outcomeOf,
  pagingOf,
  PRESENTATION_PARAMETERS,
  presentationProblem,
  resourceIdParam,
  RESULT_PARAMETERS,
  resultParameterProblem,
  SYSTEMS,
  token,
  unavailable,
  unprocessableIssues,
  versionFrom,
} from '@imaging/fhir';
import type { SearchPage, WithId } from '@imaging/fhir';
import type {
  DocumentReference,
  OperationOutcome,
  OperationOutcomeIssue,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import type { AuditInput, AuditOutcome } from './audit.ts';
import { recordAudit } from './audit.ts';
import type { Caller } from '@imaging/fhir';
import { assertKind, regionOf } from './caller.ts';
import type { HubDomainDeps } from './ports.ts';

/**
 * The imaging record locator (after NRL and the National Imaging Registry): pointers only. A region
 * registers a DocumentReference saying "I hold this ImagingStudy or DiagnosticReport for this NHS
 * number"; anyone entitled asks "what exists for this patient?" and fetches through the hub from the
 * source region. Nothing of the content is kept here.
 */

export interface RequestIds {
  requestId: string;
  correlationId: string;
}

export const POINTER_KINDS = ['ImagingStudy', 'DiagnosticReport'] as const;
export type PointerKind = (typeof POINTER_KINDS)[number];

/** Who may read the locator. */
export const LOCATOR_READERS = ['clinician', 'gateway'] as const;

/** A FHIR id, less the dot segments (`.`, `..`): in a URL's path they name another resource, or none. */
const FHIR_ID = /^(?!\.{1,2}$)[A-Za-z0-9\-.]{1,64}$/;

export interface Registration {
  pointer: WithId<DocumentReference>;
  created: boolean;
}

/**
 * Registers a pointer, idempotently: a conditional create on its master identifier (the source URL),
 * so a retried registration returns the pointer already held. A region may only point at its own data
 * (`pointerRefusal`); a refusal is audited.
 */
export async function registerPointer(
  deps: HubDomainDeps,
  caller: Caller,
  pointer: DocumentReference,
  ids: RequestIds,
): Promise<Registration> {
  assertKind(caller, ['gateway'], 'register pointers');
  assertValid(pointer);
  const parts = pointerParts(pointer);
  const regionId = regionOf(caller);
  const region = await deps.directory.findRegion(regionId);
  if (!region) throw new OutcomeError(forbidden(`Region ${regionId} of ${caller.clientId} is not in the directory`));
  const refuse = async (error: OutcomeError): Promise<never> => {
    await audit(deps, {
      subtype: 'pointer-registered',
      action: 'C',
      from: { caller },
      to: { caller },
      requestor: 'from',
      nhsNumbers: [parts.nhsNumber],
      data: [{ what: sourceOf(parts.url, parts.kind) }],
      ids,
      outcome: { status: error.status, text: error.message },
    });
    deps.logger.warn('pointer refused', {
      correlationId: ids.correlationId,
      requestId: ids.requestId,
      client: caller.clientId,
      reason: error.message,
    });
    throw error;
  };
  const refusal = pointerRefusal(pointer, parts.custodian, regionId, region.address);
  if (refusal) await refuse(new OutcomeError(refusal));
  checkSourcePath(parts, region.address);

  const { id: _id, meta: _meta, ...content } = pointer;
  const stored = await deps.store.create<DocumentReference>(content, {
    ifNoneExist: new URLSearchParams({ identifier: token(SYSTEMS.pointerSource, parts.url) }).toString(),
  });
  const { created } = stored;
  // A repeat must be for the same patient: a pointer registered first, under another NHS number, for an id
  // the source had not yet given out would otherwise stand for the result that id later names.
  if (!created && nhsNumberOfPointer(stored.resource) !== parts.nhsNumber)
    await refuse(
      new OutcomeError(
        conflict(
          `${parts.url} is already registered for another patient: the pointer held for it stands, and this one is not registered`,
        ),
      ),
    );
  if (created) {
    await audit(deps, {
      subtype: 'pointer-registered',
      action: 'C',
      from: { caller },
      to: { caller },
      requestor: 'from',
      nhsNumbers: [parts.nhsNumber],
      data: [
        { what: { reference: `DocumentReference/${stored.resource.id}` } },
        { what: sourceOf(parts.url, parts.kind) },
      ],
      ids,
      outcome: { status: 201 },
    });
  }
  const resource = outward(deps, stored.resource);
  deps.logger.info(created ? 'pointer registered' : 'pointer already registered', {
    correlationId: ids.correlationId,
    requestId: ids.requestId,
    pointer: resource.id,
  });
  return { pointer: resource, created };
}

interface PointerParts {
  url: string;
  nhsNumber: string;
  kind: PointerKind;
  custodian: string;
}

/** The parts every pointer must have, or a 422 listing each missing or wrong one. */
function pointerParts(pointer: DocumentReference): PointerParts {
  const problems: OperationOutcomeIssue[] = [];
  const master = pointer.masterIdentifier;
  if (master?.system !== SYSTEMS.pointerSource || !master.value) {
    problems.push(
      issue({
        code: 'required',
        text: `masterIdentifier must be the source URL (system ${SYSTEMS.pointerSource})`,
        expression: 'DocumentReference.masterIdentifier',
      }),
    );
  }
  // FHIR's `identifier` search, on which a registration's duplicate check runs, reads `identifier` as well as
  // `masterIdentifier`: a source URL there would claim another region's pointer before it is registered.
  for (const [i, other] of (pointer.identifier ?? []).entries()) {
    if (other.system === SYSTEMS.pointerSource)
      problems.push(
        issue({
          code: 'business-rule',
          text: `A pointer names its source URL once, in masterIdentifier: identifier may not be in ${SYSTEMS.pointerSource}`,
          expression: `DocumentReference.identifier[${i}]`,
        }),
      );
  }
  const subject = pointer.subject?.identifier;
  if (subject?.system !== NHS_NUMBER_SYSTEM || !subject.value) {
    problems.push(
      issue({
        code: 'required',
        text: `subject must identify the patient by NHS number (${NHS_NUMBER_SYSTEM})`,
        expression: 'DocumentReference.subject',
      }),
    );
  } else if (!isValidNhsNumber(subject.value)) {
    problems.push(
      issue({
        code: 'value',
        text: `'${subject.value}' is not a valid NHS number (Modulus 11)`,
        expression: 'DocumentReference.subject.identifier.value',
      }),
    );
  }
  const kind = pointer.type?.coding?.find((c) => c.system === CODE_SYSTEMS.pointerKind)?.code;
  if (!kind || !(POINTER_KINDS as readonly string[]).includes(kind)) {
    problems.push(
      issue({
        code: 'code-invalid',
        text: `type must be ${POINTER_KINDS.join(' or ')} from ${CODE_SYSTEMS.pointerKind}`,
        expression: 'DocumentReference.type',
      }),
    );
  }
  const url = pointer.content?.[0]?.attachment?.url;
  if (!url)
    problems.push(
      issue({
        code: 'required',
        text: 'content[0].attachment.url must be the source URL',
        expression: 'DocumentReference.content[0].attachment.url',
      }),
    );
  else if (master?.value && url !== master.value) {
    problems.push(
      issue({
        code: 'business-rule',
        text: 'content[0].attachment.url must equal masterIdentifier.value',
        expression: 'DocumentReference.content[0].attachment.url',
      }),
    );
  }
  const custodian = pointer.custodian?.identifier;
  if (custodian?.system !== SYSTEMS.region || !custodian.value) {
    problems.push(
      issue({
        code: 'required',
        text: `custodian must identify the region (system ${SYSTEMS.region})`,
        expression: 'DocumentReference.custodian',
      }),
    );
  }
  if (problems.length) throw new OutcomeError(unprocessableIssues(problems));
  return {
    url: url as string,
    nhsNumber: subject?.value as string,
    kind: kind as PointerKind,
    custodian: custodian?.value as string,
  };
}

/**
 * A region points only at content it holds behind its own gateway: it is the pointer's custodian, and
 * every attachment is a URL into its gateway (as the directory has it), never the content itself (the
 * locator keeps pointers only). A 403 with one issue per problem, else undefined.
 */
function pointerRefusal(
  pointer: DocumentReference,
  custodian: string,
  regionId: string,
  gateway: string,
): OperationOutcome | undefined {
  const problems: OperationOutcomeIssue[] = [];
  if (custodian !== regionId) {
    problems.push(
      forbiddenIssue(
        `Region ${regionId} registers pointers for itself, not ${custodian}`,
        'DocumentReference.custodian',
      ),
    );
  }
  for (const [i, { attachment }] of (pointer.content ?? []).entries()) {
    if (attachment.data !== undefined) {
      problems.push(
        forbiddenIssue(
          `A pointer carries no content: the content stays in region ${regionId}`,
          `DocumentReference.content[${i}].attachment.data`,
        ),
      );
    }
    if (!attachment.url?.startsWith(`${gateway}/`)) {
      problems.push(
        forbiddenIssue(
          `A pointer of region ${regionId} names only content in its gateway ${gateway}`,
          `DocumentReference.content[${i}].attachment.url`,
        ),
      );
    }
  }
  return problems.length ? outcomeOf('forbidden', problems) : undefined;
}

/** `<gateway>/<kind>/<id>`, of the kind the pointer says. */
function checkSourcePath(parts: PointerParts, gateway: string): void {
  const [type, id, ...rest] = parts.url.slice(gateway.length + 1).split('/');
  if (type !== parts.kind || !id || !FHIR_ID.test(id) || rest.length) {
    throw new OutcomeError(
      unprocessableIssues([
        issue({
          code: 'business-rule',
          text: `The source URL must be ${gateway}/${parts.kind}/<id>`,
          expression: 'DocumentReference.content[0].attachment.url',
        }),
      ]),
    );
  }
}

function forbiddenIssue(text: string, expression: string): OperationOutcomeIssue {
  return issue({ code: 'forbidden', text, expression });
}

export interface PointerSearch {
  nhsNumber: string;
  kind?: PointerKind;
  /** 0 asks how many pointers there are, and for none of them (R4: `_count=0` is `_summary=count`). */
  count?: number;
  offset?: number;
  total?: string;
}

/**
 * The patient, by NHS number. A pointer's subject is a logical reference by identifier, so the chain
 * (`subject.identifier`, as HAPI's Java client writes `SUBJECT.hasChainedProperty(...)`) asks the same.
 */
const PATIENT_PARAMS = ['subject:identifier', 'patient:identifier', 'subject.identifier', 'patient.identifier'];
const SEARCH_PARAMS = [...PATIENT_PARAMS, 'type'];

/** A page of pointers is audited as one disclosure: one AuditEvent names every pointer on it. */
const MAX_POINTERS_PER_PAGE = 100;

/**
 * A pointer search from query parameters. A patient (by NHS number) is required: the locator answers
 * "what exists for this patient", never "what exists" (no fishing). Besides, it takes what any search here
 * takes, checked as a gateway's search checks them: the result parameters (`_count` up to 100, 0 for the
 * total only, `_offset`, `_total`) and the presentation ones (`_format`, `_pretty`).
 */
export function parsePointerSearch(params: URLSearchParams): PointerSearch {
  const problems: OperationOutcomeIssue[] = [];
  const refuse = (text: string, expression: string, code: OperationOutcomeIssue['code'] = 'not-supported') =>
    problems.push(issue({ code, text, expression }));
  const unknown = new Set<string>();
  let total: string | undefined;
  for (const [key, value] of params) {
    if (SEARCH_PARAMS.includes(key)) continue;
    if (PRESENTATION_PARAMETERS.has(key)) {
      const problem = presentationProblem(key, undefined, value);
      if (problem) refuse(problem, key);
    } else if (key === '_page') {
      // A page token is read before any search is parsed: here it is empty.
      refuse('_page is the page token of a next link, and cannot be empty', key, 'value');
    } else if (RESULT_PARAMETERS.has(key)) {
      const problem = resultParameterProblem(key, undefined, value.trim());
      if (problem) refuse(problem.text, key, problem.code);
      else if (key === '_total' && total !== undefined) refuse('_total is given once', key, 'value');
      else if (key === '_total') total = value.trim();
    } else if (!unknown.has(key)) {
      unknown.add(key);
      refuse(`Search parameter '${key}' is not supported here; search by subject:identifier`, key);
    }
  }
  const patients = PATIENT_PARAMS.flatMap((key) => params.getAll(key));
  let nhsNumber = '';
  if (patients.length !== 1) {
    problems.push(
      issue({
        code: 'required',
        text: `Search for one patient: subject:identifier=${NHS_NUMBER_SYSTEM}|<NHS number> (a search without a patient is refused)`,
        expression: 'subject:identifier',
      }),
    );
  } else {
    const value = patients[0] as string;
    const bar = value.indexOf('|');
    if (bar < 0 || value.slice(0, bar) !== NHS_NUMBER_SYSTEM || !isValidNhsNumber(value.slice(bar + 1))) {
      problems.push(
        issue({
          code: 'value',
          text: `'${value}' is not ${NHS_NUMBER_SYSTEM}|<a valid NHS number>`,
          expression: 'subject:identifier',
        }),
      );
    } else nhsNumber = value.slice(bar + 1);
  }
  const type = params.get('type');
  let kind: PointerKind | undefined;
  if (type !== null) {
    const code = type.includes('|') ? type.slice(type.indexOf('|') + 1) : type;
    const system = type.includes('|') ? type.slice(0, type.indexOf('|')) : CODE_SYSTEMS.pointerKind;
    if (system !== CODE_SYSTEMS.pointerKind || !(POINTER_KINDS as readonly string[]).includes(code)) {
      problems.push(issue({ code: 'value', text: `type must be ${POINTER_KINDS.join(' or ')}`, expression: 'type' }));
    } else kind = code as PointerKind;
  }
  const { count, offset, problems: pagingProblems } = pagingOf(params, { maxCount: MAX_POINTERS_PER_PAGE });
  problems.push(...pagingProblems);
  if (problems.length) throw new OutcomeError(invalid(problems));
  return {
    nhsNumber,
    ...(kind ? { kind } : {}),
    ...(count !== undefined ? { count } : {}),
    ...(offset !== undefined ? { offset } : {}),
    ...(total ? { total } : {}),
  };
}

/**
 * The store query for a patient's pointers: the one place the locator says how, so it can be swapped
 * if a FHIR server lacks the `:identifier` modifier on references.
 */
export function pointerQuery(search: PointerSearch): Record<string, string> {
  return {
    'subject:identifier': token(NHS_NUMBER_SYSTEM, search.nhsNumber),
    ...(search.kind ? { type: token(CODE_SYSTEMS.pointerKind, search.kind) } : {}),
    // `_count=0` too: every store answers it with the total alone (the store contract).
    _count: String(search.count ?? 20),
    ...(search.offset !== undefined ? { _offset: String(search.offset) } : {}),
    ...(search.total ? { _total: search.total } : {}),
  };
}

/** A patient's pointers (one page), with the disclosure audited. */
export async function searchPointers(
  deps: HubDomainDeps,
  caller: Caller,
  search: PointerSearch,
  query: string,
  ids: RequestIds,
): Promise<SearchPage<WithId<DocumentReference>>> {
  assertKind(caller, LOCATOR_READERS, 'search the locator');
  const page = await deps.store.search<DocumentReference>('DocumentReference', pointerQuery(search));
  await auditDisclosure(deps, caller, page.resources, [search.nhsNumber], query, ids);
  return outwardPage(deps, page);
}

/** A later page of a search (the continuation comes from a page token the caller was given). */
export async function nextPointers(
  deps: HubDomainDeps,
  caller: Caller,
  continuation: string,
  ids: RequestIds,
): Promise<SearchPage<WithId<DocumentReference>>> {
  assertKind(caller, LOCATOR_READERS, 'search the locator');
  const page = await deps.store.nextPage<DocumentReference>(continuation);
  await auditDisclosure(deps, caller, page.resources, page.resources.map(nhsNumberOfPointer), '_page', ids);
  return outwardPage(deps, page);
}

/** One pointer, with the disclosure audited. */
export async function readPointer(
  deps: HubDomainDeps,
  caller: Caller,
  id: string,
  ids: RequestIds,
): Promise<WithId<DocumentReference>> {
  assertKind(caller, LOCATOR_READERS, 'read the locator');
  const pointer = await deps.store.read<DocumentReference>('DocumentReference', storeIdOf(deps, id));
  await auditDisclosure(deps, caller, [pointer], [nhsNumberOfPointer(pointer)], undefined, ids);
  return outward(deps, pointer);
}

/** Which of a pointer's versions (newest first) a history shows: a page of them (`_count`, `_since`, `_at`). */
export type PointerVersionsShown = (versions: WithId<DocumentReference>[]) => WithId<DocumentReference>[];

/**
 * A pointer's versions, newest first: every one, the one asked for (a version id), or those `which` picks
 * (a page of its history), with the disclosure of what is shown audited. Whoever may read the locator may
 * read a pointer's past: it points at the same record.
 */
export async function readPointerVersions(
  deps: HubDomainDeps,
  caller: Caller,
  id: string,
  ids: RequestIds,
  which?: string | PointerVersionsShown,
): Promise<WithId<DocumentReference>[]> {
  assertKind(caller, LOCATOR_READERS, 'read the locator');
  const versions = await deps.store.history<DocumentReference>('DocumentReference', storeIdOf(deps, id));
  const shown =
    which === undefined
      ? versions
      : typeof which === 'string'
        ? [versionFrom(versions, 'DocumentReference', which)]
        : which(versions);
  const query = typeof which === 'string' ? `_history/${which}` : '_history';
  await auditDisclosure(deps, caller, shown, [...new Set(shown.map(nhsNumberOfPointer))], query, ids);
  return shown.map((v) => outward(deps, v));
}

async function auditDisclosure(
  deps: HubDomainDeps,
  caller: Caller,
  pointers: WithId<DocumentReference>[],
  nhsNumbers: string[],
  query: string | undefined,
  ids: RequestIds,
): Promise<void> {
  // The pointers come from the locator itself; each custodian region is named on its pointer's entity.
  await audit(deps, {
    subtype: 'pointers-disclosed',
    action: 'E',
    from: { locator: true },
    to: { caller },
    requestor: 'to',
    nhsNumbers: nhsNumbers.filter(Boolean),
    data: pointers.map((p) => ({
      what: { reference: `DocumentReference/${p.id}` },
      detail: { custodian: p.custodian?.identifier?.value ?? '', source: p.content?.[0]?.attachment?.url ?? '' },
    })),
    ...(query !== undefined ? { query } : {}),
    ids,
    outcome: { status: 200, text: `${pointers.length} pointer(s)` },
  });
}

const nhsNumberOfPointer = (p: DocumentReference): string => nhsNumberOf(p.subject) ?? '';

/**
 * A pointer as clients see it: under the id the hub hands out (PointerIds), never the store's. Its
 * AuditEvents name it by the store's, a literal reference that resolves in the hub's own store (HAPI FHIR
 * enforces that): they are read by auditors, through the hub's AuditEvent API, not by the locator's readers.
 */
function outward(deps: HubDomainDeps, pointer: WithId<DocumentReference>): WithId<DocumentReference> {
  return { ...pointer, id: deps.pointerIds.outward(pointer.id) };
}

function outwardPage(
  deps: HubDomainDeps,
  page: SearchPage<WithId<DocumentReference>>,
): SearchPage<WithId<DocumentReference>> {
  return { ...page, resources: page.resources.map((p) => outward(deps, p)) };
}

/**
 * The store id behind a pointer id a client sent: a malformed id is a 400, as anywhere; one the hub never
 * handed out is what an unknown pointer is, a 404, whether or not the store holds something under it.
 */
function storeIdOf(deps: HubDomainDeps, id: string): string {
  const storeId = deps.pointerIds.inward(resourceIdParam(id));
  if (storeId === undefined) throw new OutcomeError(notFound(`DocumentReference/${id}`));
  return storeId;
}

/**
 * `$retrieve`: fetches what a pointer points at from its source region, with the hub's token, and
 * returns it as it is. Nothing is copied or kept. The URL must still lie in the custodian region's
 * gateway as the directory has it, so the hub's token is never sent anywhere else.
 */
export async function retrieveContent(
  deps: HubDomainDeps,
  caller: Caller,
  id: string,
  ids: RequestIds,
): Promise<Resource> {
  assertKind(caller, LOCATOR_READERS, 'retrieve content through the locator');
  const storeId = storeIdOf(deps, id);
  const pointer = await deps.store.read<DocumentReference>('DocumentReference', storeId);
  const url = pointer.content?.[0]?.attachment?.url;
  const kind = pointer.type?.coding?.find((c) => c.system === CODE_SYSTEMS.pointerKind)?.code;
  const regionId = pointer.custodian?.identifier?.value;
  // Registration guarantees these; a pointer without them was not written through this API.
  if (!url || !kind || !regionId) throw new Error(`DocumentReference/${id} is not a locator pointer`);
  const region = await deps.directory.findRegion(regionId);
  if (!region || !url.startsWith(`${region.address}/`)) {
    throw new OutcomeError(
      conflict(`DocumentReference/${id} points outside region ${regionId}'s gateway as the directory has it`),
    );
  }
  const party = { regionId, ...(region.regionName ? { regionName: region.regionName } : {}) };
  const record = (outcome: AuditOutcome) =>
    audit(deps, {
      subtype: 'content-retrieved',
      action: 'R',
      from: party,
      to: { caller },
      requestor: 'to',
      nhsNumbers: [nhsNumberOfPointer(pointer)].filter(Boolean),
      data: [{ what: { reference: `DocumentReference/${storeId}` } }, { what: sourceOf(url, kind as PointerKind) }],
      ids,
      outcome,
    });

  const result = await deps.regions.call<Resource>(url, { method: 'GET' });
  let failure: OutcomeError | undefined;
  if (!result.answered)
    failure = new OutcomeError(
      unavailable(`Region ${regionId} could not be reached (${result.reason}); try again later`),
    );
  else if (!result.ok) {
    // A source that no longer has it is worth passing on; anything else is the source's or the hub's fault.
    failure =
      result.status === 404 || result.status === 410
        ? new OutcomeError(result.outcome, result.status)
        : new OutcomeError(badGateway(`Region ${regionId} answered ${result.status}: ${result.text}`));
  } else {
    const mismatch = notWhatWasPointedTo(result.body, pointer, url, kind);
    if (mismatch) failure = new OutcomeError(badGateway(`Region ${regionId} answered with ${mismatch}`));
  }
  if (failure) {
    await record({ status: failure.status, text: failure.message });
    deps.logger.warn('content not retrieved', {
      correlationId: ids.correlationId,
      requestId: ids.requestId,
      pointer: id,
      status: failure.status,
    });
    throw failure;
  }
  await record({ status: 200, text: `${kind} retrieved from region ${regionId}` });
  return (result as { body: Resource }).body;
}

/**
 * How a region's answer differs from what the pointer points to, or undefined when it is that: the kind, the
 * id in the source URL, and the patient the pointer was found under. A pointer's NHS number is what the
 * registering region said; the source gateway names its result's patient by NHS number when the hub reads
 * it, so a pointer put under another patient's NHS number never shows that patient someone else's result.
 */
function notWhatWasPointedTo(
  body: Resource | undefined,
  pointer: DocumentReference,
  url: string,
  kind: string,
): string | undefined {
  if (body?.resourceType !== kind) return `a ${body?.resourceType ?? 'non-FHIR body'}, not the ${kind} pointed to`;
  if (body.id !== url.slice(url.lastIndexOf('/') + 1)) return `${kind}/${body.id ?? '(no id)'}, not the one pointed to`;
  const patient = nhsNumberOf((body as { subject?: Reference }).subject);
  if (!patient) return `a ${kind} that does not name its patient's NHS number`;
  if (patient !== nhsNumberOfPointer(pointer)) return `a ${kind} for another patient than the pointer's NHS number`;
  return undefined;
}

/**
 * The pointed-to resource in an AuditEvent, by its source URL as an identifier (as the pointer's
 * masterIdentifier has it): a literal reference to another server is refused by HAPI FHIR (HAPI-0507,
 * external references are off by default), and the audit trail must be storable there too.
 */
function sourceOf(url: string, type: PointerKind): Reference {
  return { type, identifier: { system: SYSTEMS.pointerSource, value: url } };
}

function audit(
  deps: HubDomainDeps,
  input: Omit<AuditInput, 'recorded' | 'observer' | 'requestId' | 'correlationId'> & { ids: RequestIds },
) {
  const { ids, ...rest } = input;
  return recordAudit(deps.store, {
    ...rest,
    requestId: ids.requestId,
    correlationId: ids.correlationId,
    recorded: deps.clock.now(),
    observer: deps.hubUrl,
  });
}
