import type { DiagnosticReport, ImagingStudy, TaskOutput } from '@medplum/fhirtypes';
import type { FhirStore } from '@imaging/fhir';
import { isIssuedReport } from './dids.ts';
import { readLocal } from './references.ts';
import { orderOfResult } from './result-order.ts';

/*
 * What a fulfilment Task's output may name: the results of its own order. A referrer reads its result
 * through the Task's output (the simulators' and the demo's referrers do), so another order's study or
 * report there would show another patient's result as this one's. Checked on a client's update
 * (tasks.ts) and on a routed task-update (inbound.ts), whatever status the Task moves to.
 */

const RESULT_TYPES = ['DiagnosticReport', 'ImagingStudy'] as const;

export interface OutputProblem {
  /** The output's index in Task.output. */
  index: number;
  text: string;
}

/**
 * Each output of a fulfilment Task for `order` (`ServiceRequest/<id>`) whose literal reference names
 * anything but a study or report stored here for that order alone; with `issuedReports` (a completed
 * Task), a report must be issued too. A logical reference no store entry answers yet names nothing here:
 * it is let through, and the report it names, when it comes, is pointed at only from its own order's
 * Tasks (inbound.ts).
 */
export async function outputProblems(
  store: FhirStore,
  order: string | undefined,
  output: readonly TaskOutput[] | undefined,
  options: { issuedReports: boolean },
): Promise<OutputProblem[]> {
  const problems: OutputProblem[] = [];
  for (const [index, item] of (output ?? []).entries()) {
    const reference = item.valueReference?.reference;
    if (!reference) continue;
    // Only "no such result" makes the output wrong; a store that cannot answer is the store's failure.
    const result = await readLocal<DiagnosticReport | ImagingStudy>(store, reference, RESULT_TYPES);
    if (!result || !order || orderOfResult(result) !== order) {
      problems.push({ index, text: `${reference} is not a study or report of ${order ?? 'this order'} alone` });
    } else if (options.issuedReports && result.resourceType === 'DiagnosticReport' && !isIssuedReport(result)) {
      problems.push({ index, text: `${reference} is not an issued report (it is ${result.status})` });
    }
  }
  return problems;
}
