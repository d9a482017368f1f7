import type { DiagnosticReport, Endpoint, ImagingStudy, ServiceRequest, Task } from '@medplum/fhirtypes';
import {
  alertCategoryExtension,
  CODE_SYSTEMS,
  suspectedPrimarySiteExtension,
  DICOM_UID_SYSTEM,
  ODS_SYSTEM,
  odsOf,
  OutcomeError,
  serverError,
  SYSTEMS,
} from '@imaging/fhir';
import type { AlertCategory, WithId } from '@imaging/fhir';
import { exampleDiagnosticReport, exampleEndpoint, exampleImagingStudy } from '@imaging/fhir/examples';
import type { CallOptions, Created, FhirClient } from './fhir-client.ts';

/** The identifier system of an Endpoint identified by its own address (RFC 3986 URI). */
export const URI_IDENTIFIER_SYSTEM = 'urn:ietf:rfc:3986';

export interface StudyDetails {
  /** The Study Instance UID, dotted digits (without `urn:oid:`). */
  studyUid: string;
  accession: string;
  started?: string;
  description?: string;
}

export interface ReportDetails {
  alertCategory: AlertCategory;
  /** The suspected primary site a CANCER alert names (SNOMED CT body structure); required for CANCER. */
  suspectedPrimarySite?: { code: string; display?: string };
  conclusion: string;
  /** The report's business identifier; it must start with the performer's ODS code. Assigned by the gateway when absent. */
  identifier?: string;
  issued?: string;
}

/**
 * An imaging provider's RIS/PACS using its own region's gateway: finds the orders it has been sent,
 * accepts and starts them, records the study with its DICOMweb endpoint, issues the report with its
 * alert category and completes the order with the report. Every Task change is a versioned update
 * (`If-Match` with the version last read), so a stale copy is refused (412), never overwritten.
 */
export interface RisPacs {
  readonly ods: string;
  /** Fulfilment Tasks waiting for this provider (status `requested`). */
  findNewTasks(options?: CallOptions): Promise<WithId<Task>[]>;
  /** The order a Task is for (this region's copy). */
  readOrder(task: Task, options?: CallOptions): Promise<WithId<ServiceRequest>>;
  acceptTask(task: WithId<Task>, options?: CallOptions): Promise<WithId<Task>>;
  startTask(task: WithId<Task>, options?: CallOptions): Promise<WithId<Task>>;
  /** Registers the DICOMweb (WADO-RS) endpoint studies are retrieved from; a repeat returns the same one. */
  registerDicomWebEndpoint(address: string, name: string, options?: CallOptions): Promise<Created<Endpoint>>;
  recordImagingStudy(
    order: WithId<ServiceRequest>,
    endpoint: WithId<Endpoint>,
    study: StudyDetails,
    options?: CallOptions,
  ): Promise<Created<ImagingStudy>>;
  issueReport(
    order: WithId<ServiceRequest>,
    study: WithId<ImagingStudy>,
    report: ReportDetails,
    options?: CallOptions,
  ): Promise<Created<DiagnosticReport>>;
  /** Completes the Task with the report as its output. */
  completeTask(task: WithId<Task>, report: WithId<DiagnosticReport>, options?: CallOptions): Promise<WithId<Task>>;
}

export function createRisPacs(gateway: FhirClient, ods: string): RisPacs {
  const ownerOds = (task: Task) => odsOf(task.owner);
  const move = (task: WithId<Task>, changes: Partial<Task>, options?: CallOptions) =>
    gateway.update<Task>({ ...task, ...changes }, versionOf(task), options);

  return {
    ods,

    async findNewTasks(options) {
      const tasks = await gateway.search<Task>(
        'Task',
        { status: 'requested', code: `${CODE_SYSTEMS.taskCode}|fulfil`, _sort: '_lastUpdated' },
        options,
      );
      // The provider can also see orders it placed itself; only those it performs are its work.
      return tasks.filter((t) => ownerOds(t) === ods);
    },

    async readOrder(task, options) {
      const ref = task.focus?.reference;
      if (!ref?.startsWith('ServiceRequest/'))
        throw new OutcomeError(serverError(`Task/${task.id} is not focused on an order`));
      return gateway.read<ServiceRequest>('ServiceRequest', ref.slice('ServiceRequest/'.length), options);
    },

    acceptTask: (task, options) => move(task, { status: 'accepted' }, options),

    startTask: (task, options) => move(task, { status: 'in-progress' }, options),

    registerDicomWebEndpoint(address, name, options) {
      return gateway.create<Endpoint>(
        exampleEndpoint({
          id: undefined,
          identifier: [{ system: URI_IDENTIFIER_SYSTEM, value: address }],
          name,
          address,
          managingOrganization: { identifier: { system: ODS_SYSTEM, value: ods } },
        }),
        options,
      );
    },

    recordImagingStudy(order, endpoint, study, options) {
      return gateway.create<ImagingStudy>(
        exampleImagingStudy({
          identifier: [
            { system: DICOM_UID_SYSTEM, value: `urn:oid:${study.studyUid}` },
            { system: SYSTEMS.accession, value: study.accession },
          ],
          basedOn: [{ reference: `ServiceRequest/${order.id}` }],
          subject: order.subject as ImagingStudy['subject'],
          endpoint: [{ reference: `Endpoint/${endpoint.id}` }],
          started: study.started ?? new Date().toISOString(),
          ...(study.description ? { description: study.description } : {}),
          ...(order.code?.coding ? { procedureCode: [{ coding: order.code.coding }] } : {}),
        }),
        options,
      );
    },

    issueReport(order, study, report, options) {
      const issued = report.issued ?? new Date().toISOString();
      return gateway.create<DiagnosticReport>(
        exampleDiagnosticReport({
          extension: [
            alertCategoryExtension(report.alertCategory),
            ...(report.suspectedPrimarySite ? [suspectedPrimarySiteExtension(report.suspectedPrimarySite)] : []),
          ],
          identifier: report.identifier ? [{ system: SYSTEMS.report, value: report.identifier }] : undefined,
          basedOn: [{ reference: `ServiceRequest/${order.id}` }],
          subject: order.subject,
          imagingStudy: [{ reference: `ImagingStudy/${study.id}` }],
          ...(order.code ? { code: order.code } : {}),
          effectiveDateTime: study.started ?? issued,
          issued,
          performer: [{ identifier: { system: ODS_SYSTEM, value: ods } }],
          conclusion: report.conclusion,
        }),
        options,
      );
    },

    completeTask(task, report, options) {
      return move(
        task,
        {
          status: 'completed',
          output: [{ type: { text: 'report' }, valueReference: { reference: `DiagnosticReport/${report.id}` } }],
        },
        options,
      );
    },
  };
}

function versionOf(task: WithId<Task>): string {
  const version = task.meta?.versionId;
  if (!version)
    throw new OutcomeError(serverError(`Task/${task.id} was read without a version: cannot update it safely`));
  return version;
}
