import type { DiagnosticReport, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../../outcomes.ts';
import { CODE_SYSTEMS, EXTENSIONS, SNOMED_SYSTEM, SYSTEMS } from '../../systems.ts';
import { ALERT_CATEGORIES, alertCategoryOf, isAlertCategory } from '../../terminology/alert-categories.ts';
import { actorReferenceIssues, patientReferenceIssues, referenceIssues } from '../references.ts';
import type { ProfileRules } from './common.ts';
import { requiredIdentifier } from './common.ts';

/** Report statuses at which the report is issued, so its alert category must be set. */
const ISSUED = ['final', 'amended', 'corrected'];

/** A SNOMED CT identifier: 6 to 18 digits, not starting with 0. */
const SCTID = /^[1-9][0-9]{5,17}$/;

/**
 * DiagnosticReport: the imaging report. Exactly one alert category (requirement 7) in the
 * alert-category extension, required once the report is issued; a CANCER alert also names the suspected
 * primary site (a SNOMED CT body structure in its own extension); `basedOn` the order.
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
  issues.push(...suspectedPrimarySiteIssues(report));
  return issues;
};

/** A CANCER alert names its suspected primary site, once, as a SNOMED CT coding. */
function suspectedPrimarySiteIssues(report: DiagnosticReport): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const found = (report.extension ?? [])
    .map((extension, i) => ({ extension, i }))
    .filter(({ extension }) => extension.url === EXTENSIONS.suspectedPrimarySite);
  if (found.length === 0 && alertCategoryOf(report) === 'CANCER') {
    issues.push(
      issue({
        code: 'required',
        text: 'A CANCER alert names the suspected primary site (a SNOMED CT body structure)',
        expression: `DiagnosticReport.extension('${EXTENSIONS.suspectedPrimarySite}')`,
      }),
    );
  }
  for (const { i } of found.slice(1)) {
    issues.push(
      issue({
        code: 'business-rule',
        text: 'A report names one suspected primary site',
        expression: `DiagnosticReport.extension[${i}]`,
      }),
    );
  }
  for (const { extension, i } of found) {
    const codings = extension.valueCodeableConcept?.coding ?? [];
    if (!codings.some((c) => c.system === SNOMED_SYSTEM && SCTID.test(c.code ?? ''))) {
      issues.push(
        issue({
          code: 'code-invalid',
          text: `The suspected primary site must be a valueCodeableConcept with a SNOMED CT coding (${SNOMED_SYSTEM})`,
          expression: `DiagnosticReport.extension[${i}]${extension.valueCodeableConcept ? '.valueCodeableConcept' : ''}`,
        }),
      );
    }
  }
  return issues;
}

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
