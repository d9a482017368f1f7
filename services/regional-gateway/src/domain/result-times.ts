import type { AuditEvent, DiagnosticReport, ImagingStudy } from '@medplum/fhirtypes';
import { searchAll } from '@imaging/fhir';
import { recordOfCreation } from './audit.ts';
import { earliestOf, isTestDone, reportIssueDateOf, testDateOf } from './dids.ts';
import { businessIdentifier } from './identifiers.ts';
import type { GatewayDeps } from './ports.ts';

/*
 * When a study or report counts as done for a due time. The RIS says when it examined
 * (ImagingStudy.started) and when it issued (DiagnosticReport.issued), and it can say any time; what the
 * gateway knows is when it recorded the result, on its own clock, in the AuditEvent stored in the same
 * transaction (study-recorded, report-issued). A result counts from the later of the two: one recorded
 * after its due time is late whatever it claims, as the safety job would have found had it looked at the
 * due time itself, so no result can be backdated into time.
 */

/** When a study counts as the test done, for an order made at `requestedAt`; undefined unless it is (available). */
export async function testDoneAt(
  deps: GatewayDeps,
  study: ImagingStudy,
  requestedAt: Date | undefined,
): Promise<Date | undefined> {
  if (!isTestDone(study)) return undefined;
  return laterOf(testDateOf(study, requestedAt), await recordedHereAt(deps, 'study-recorded', study));
}

/** When a report counts as issued; undefined unless it is (final, amended or corrected). */
export async function reportIssuedAt(deps: GatewayDeps, report: DiagnosticReport): Promise<Date | undefined> {
  const claimed = reportIssueDateOf(report);
  if (!claimed) return undefined;
  return laterOf(claimed, await recordedHereAt(deps, 'report-issued', report));
}

/**
 * When this gateway recorded a result, by the AuditEvent of its creation. Undefined for one it holds no
 * such record of (one not written through this gateway): only its claim is there to go on.
 */
async function recordedHereAt(
  deps: GatewayDeps,
  subtype: 'study-recorded' | 'report-issued',
  result: ImagingStudy | DiagnosticReport,
): Promise<Date | undefined> {
  const identifier = businessIdentifier(result);
  if (!identifier) return undefined;
  const events = await searchAll<AuditEvent>(deps.store, 'AuditEvent', recordOfCreation(subtype, identifier));
  return earliestOf(events.map((e) => (e.recorded ? new Date(e.recorded) : undefined)));
}

function laterOf(claimed: Date | undefined, recorded: Date | undefined): Date | undefined {
  if (!claimed || !recorded) return claimed ?? recorded;
  return claimed > recorded ? claimed : recorded;
}
