import type { DiagnosticReport, ImagingStudy } from '@medplum/fhirtypes';
import type { FhirStore } from '@imaging/fhir';
import { readLocal } from './references.ts';
import { orderOfResult } from './result-order.ts';

/*
 * The studies a report cites (DiagnosticReport.imagingStudy) are its own order's. A referrer opens the
 * images of its result through them, so a report citing another order's study would show another
 * patient's images as this one's. Checked where a RIS issues a report (results.ts) and where a routed
 * report arrives (inbound.ts), whose references are resolved by business identifier to the studies held here.
 */

export interface CitedStudyProblem {
  /** The citation's index in DiagnosticReport.imagingStudy. */
  index: number;
  text: string;
}

/**
 * Each study a report cites by a literal `ImagingStudy/<id>` that this store holds and that is not a study
 * of `order` (`ServiceRequest/<id>`) alone. Other citations are not this check's: a carried study (a
 * `urn:uuid`) is checked as it is stored, a logical one names nothing here, and a missing one is the
 * reference check's.
 */
export async function citedStudyProblems(
  store: FhirStore,
  report: DiagnosticReport,
  order: string,
): Promise<CitedStudyProblem[]> {
  const problems: CitedStudyProblem[] = [];
  for (const [index, cited] of (report.imagingStudy ?? []).entries()) {
    const study = await readLocal<ImagingStudy>(store, cited.reference, ['ImagingStudy']);
    if (study && orderOfResult(study) !== order)
      problems.push({ index, text: `${cited.reference} is not a study of ${order}: a report cites its own order's` });
  }
  return problems;
}
