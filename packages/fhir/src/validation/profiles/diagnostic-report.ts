import type { DiagnosticReport, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../../outcomes.ts';
import { CODE_SYSTEMS, EXTENSIONS, SYSTEMS } from '../../systems.ts';
import { ALERT_CATEGORIES, isAlertCategory } from '../../terminology/alert-categories.ts';
import { actorReferenceIssues, patientReferenceIssues, referenceIssues } from '../references.ts';
import type { ProfileRules } from './common.ts';
import { requiredIdentifier } from './common.ts';

/** Report statuses at which the report is issued, so its alert category must be set. */
const ISSUED = ['final', 'amended', 'corrected'];

/**
 * DiagnosticReport: the imaging report. Exactly one alert category (requirement 7) in the
 * alert-category extension, required once the report is issued; `basedOn` the order.
 */
export const diagnosticReportRules: ProfileRules<DiagnosticReport> = (report, ctx) => {
  const issues: OperationOutcomeIssue[] = [];
  issues.push(...requiredIdentifier('DiagnosticReport', report.identifier, SYSTEMS.report, 'A report identifier'));
  issues.push(...patientReferenceIssues(report.subject, 'DiagnosticReport.subject', ctx));
  if (!report.basedOn?.length) {
    issues.push(
      issue({
        code: 'required',
        text: 'basedOn must reference the order (ServiceRequest)',
        expression: 'DiagnosticReport.basedOn',
      }),
    );
  }
  report.basedOn?.forEach((ref, i) => {
    issues.push(...referenceIssues(ref, ['ServiceRequest'], `DiagnosticReport.basedOn[${i}]`, ctx));
  });
  report.imagingStudy?.forEach((ref, i) => {
    issues.push(...referenceIssues(ref, ['ImagingStudy'], `DiagnosticReport.imagingStudy[${i}]`, ctx));
  });
  report.performer?.forEach((ref, i) => {
    issues.push(...actorReferenceIssues(ref, `DiagnosticReport.performer[${i}]`, ctx));
  });
  issues.push(...alertCategoryIssues(report));
  return issues;
};

function alertCategoryIssues(report: DiagnosticReport): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const found = (report.extension ?? [])
    .map((extension, i) => ({ extension, i }))
    .filter(({ extension }) => extension.url === EXTENSIONS.alertCategory);
  if (found.length === 0) {
    if (report.status && ISSUED.includes(report.status)) {
      issues.push(
        issue({
          code: 'required',
          text: `An issued report (status ${report.status}) needs its alert category: one of ${ALERT_CATEGORIES.join(', ')}`,
          expression: `DiagnosticReport.extension('${EXTENSIONS.alertCategory}')`,
        }),
      );
    }
    return issues;
  }
  if (found.length > 1) {
    for (const { i } of found.slice(1)) {
      issues.push(
        issue({
          code: 'business-rule',
          text: 'A report carries exactly one alert category',
          expression: `DiagnosticReport.extension[${i}]`,
        }),
      );
    }
  }
  for (const { extension, i } of found) {
    const coding = extension.valueCoding;
    if (!coding || coding.system !== CODE_SYSTEMS.alertCategory || !isAlertCategory(coding.code)) {
      issues.push(
        issue({
          code: 'code-invalid',
          text: `The alert category must be a valueCoding from ${CODE_SYSTEMS.alertCategory}: one of ${ALERT_CATEGORIES.join(', ')}`,
          expression: `DiagnosticReport.extension[${i}]${coding ? '.valueCoding' : ''}`,
        }),
      );
    }
  }
  return issues;
}
