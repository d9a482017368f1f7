import type { Coding, DiagnosticReport, Encounter, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import {
  EXTENSIONS,
  NHS_NUMBER_SYSTEM,
  odsOf,
  odsReference,
  SYSTEMS,
  suspectedPrimarySiteExtension,
} from '@imaging/fhir';
import type { AcknowledgedAlertCategory, WithId } from '@imaging/fhir';
import { exampleDiagnosticReport, examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { staged } from './scenario.ts';
import type { ScenarioWorld } from './world.ts';

/** The steps of the pathway the scenarios are made of, each as the system that takes it does, over HTTP. */

export interface CaseOptions {
  /** The referrer's system (a client of the scenario topology) and the organisation it orders for. */
  referrer: string;
  requester: string;
  /** The organisation that images and reports. */
  performer: string;
  /** The requesting clinician the order names (a PractitionerRole of the directory). */
  clinician?: string;
  /** The patient's registered GP practice (Patient.generalPractitioner), by ODS code. */
  practice?: string;
  /** The encounter the order carries, contained (an emergency attendance). */
  encounter?: Encounter['status'];
}

export interface PlacedCase {
  patient: WithId<Patient>;
  /** The requester's order, as its own region holds it. */
  order: WithId<ServiceRequest>;
  placer: string;
  /** The report's business identifier, once issued: the alert Tasks are named after it. */
  report: string;
}

/** The referrer registers the patient and orders the imaging, at its own region's gateway. */
export async function placeCase(world: ScenarioWorld, options: CaseOptions): Promise<PlacedCase> {
  const referrer = world.client(options.referrer);
  const now = world.clock.now().toISOString();
  const patient = await referrer.create(
    examplePatient({
      identifier: [{ system: NHS_NUMBER_SYSTEM, value: world.nhsNumber() }],
      ...(options.practice ? { generalPractitioner: [odsReference(options.practice)] } : {}),
    }),
  );
  const placer = `${options.requester}-${world.run}-1`;
  const order = await referrer.create(
    exampleServiceRequest({
      identifier: [{ system: SYSTEMS.placerOrder, value: placer }],
      subject: { reference: `Patient/${patient.id}` },
      requester: odsReference(options.requester),
      performer: [odsReference(options.performer)],
      authoredOn: now,
      ...(options.clinician
        ? {
            extension: [
              {
                url: EXTENSIONS.requestingClinician,
                valueReference: {
                  type: 'PractitionerRole',
                  identifier: { system: SYSTEMS.practitionerRole, value: options.clinician },
                },
              },
            ],
          }
        : {}),
      ...(options.encounter
        ? {
            contained: [
              {
                resourceType: 'Encounter',
                id: 'enc',
                status: options.encounter,
                class: { code: 'EMER', display: 'emergency' },
                period: { start: now },
              },
            ],
            encounter: { reference: '#enc' },
          }
        : {}),
    }),
  );
  // Orders for another region's performer are sent on at once.
  await world.tick();
  return { patient, order, placer, report: `${options.performer}-REP-${world.run}` };
}

/** The referrer records that the patient has left: the order's encounter is finished. */
export async function recordDischarge(world: ScenarioWorld, referrer: string, placed: PlacedCase): Promise<void> {
  const client = world.client(referrer);
  const order = await client.read<ServiceRequest>('ServiceRequest', placed.order.id);
  const encounter = order.contained?.find((r): r is Encounter => r.resourceType === 'Encounter');
  staged(encounter, 'the order carries its encounter');
  await client.update<ServiceRequest>({
    ...order,
    contained: [
      { ...encounter, status: 'finished', period: { ...encounter.period, end: world.clock.now().toISOString() } },
    ],
  });
}

export interface ReportOptions {
  /** The performer's RIS (a client of the scenario topology). */
  ris: string;
  category: AcknowledgedAlertCategory;
  conclusion: string;
  /** For CANCER: the suspected primary site (SNOMED CT body structure); default the example's right upper lobe. */
  site?: Coding & { code: string };
}

/** The performer's RIS issues the report on its copy of the order, with its alert category. */
export async function issueReport(
  world: ScenarioWorld,
  placed: PlacedCase,
  options: ReportOptions,
): Promise<WithId<DiagnosticReport>> {
  const ris = world.client(options.ris);
  const [order] = await ris.search<ServiceRequest>('ServiceRequest', {
    identifier: `${SYSTEMS.placerOrder}|${placed.placer}`,
  });
  staged(order, `the order ${placed.placer} reached the performer`);
  const performer = odsOf(order.performer?.[0]);
  staged(performer, 'the order names its performer by ODS code');
  const base = exampleDiagnosticReport(
    {
      identifier: [{ system: SYSTEMS.report, value: placed.report }],
      performer: [odsReference(performer)],
      basedOn: [{ reference: `ServiceRequest/${order.id}` }],
      subject: order.subject as DiagnosticReport['subject'],
      effectiveDateTime: placed.order.authoredOn as string,
      issued: world.clock.now().toISOString(),
      conclusion: options.conclusion,
    },
    options.category,
  );
  const report =
    options.category === 'CANCER' && options.site
      ? {
          ...base,
          extension: [
            ...(base.extension ?? []).filter((e) => e.url !== EXTENSIONS.suspectedPrimarySite),
            suspectedPrimarySiteExtension(options.site),
          ],
        }
      : base;
  const issued = await ris.create(report);
  // The report goes back to the requester's region at once, and its alert is raised there.
  await world.tick();
  return issued;
}

/** The alert's owner acknowledges it (CRITICAL: with the call that gave the finding by voice). */
export async function acknowledge(
  world: ScenarioWorld,
  referrer: string,
  alert: WithId<Task>,
  by: string,
  call?: { by: string },
): Promise<void> {
  await world.client(referrer).operation<Task>('Task', alert.id, 'acknowledge', {
    resourceType: 'Parameters',
    parameter: [
      { name: 'acknowledgedBy', valueString: by },
      ...(call
        ? [
            { name: 'communicatedBy', valueString: call.by },
            { name: 'communicatedAt', valueDateTime: world.clock.now().toISOString() },
          ]
        : []),
    ],
  });
  // The acknowledgement goes back to the performer's region at once.
  await world.tick();
}
