import { describe, expect, it } from 'vitest';
import { EXTENSIONS, ODS_SYSTEM } from '../systems.ts';
import { alertCategoryOf } from '../terminology/alert-categories.ts';
import { taskCodeOf } from '../terminology/task-codes.ts';
import { isValidNhsNumber } from '../validation/nhs-number.ts';
import { PROFILE_URLS } from '../validation/profiles/index.ts';
import { assertValid, validationIssues } from '../validation/validate.ts';
import {
  allExamples,
  EXAMPLE,
  exampleAcknowledgementTask,
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleFulfilmentTask,
  examplePatient,
  exampleServiceRequest,
  profileDefinitions,
} from './index.ts';

describe('examples', () => {
  it.each(
    allExamples().map(
      (r) => [`${r.resourceType}${r.resourceType === 'Task' ? ` (${taskCodeOf(r)})` : ''}`, r] as const,
    ),
  )('%s passes assertValid with no issue at all', (_, resource) => {
    expect(validationIssues(resource)).toEqual([]);
    expect(() => assertValid(resource)).not.toThrow();
  });

  it('declare their own profile', () => {
    for (const r of allExamples()) {
      expect(r.meta?.profile).toEqual([PROFILE_URLS[r.resourceType]]);
    }
  });

  it('use a test NHS number and the dev topology’s ODS codes', () => {
    expect(EXAMPLE.nhsNumber.startsWith('999')).toBe(true);
    expect(isValidNhsNumber(EXAMPLE.nhsNumber)).toBe(true);
    const order = exampleServiceRequest();
    expect(order.requester?.identifier).toEqual({ system: ODS_SYSTEM, value: 'N81001' });
    expect(order.performer?.[0]?.identifier).toEqual({ system: ODS_SYSTEM, value: 'RM1' });
    expect(order.code?.coding?.[0]?.code).toBe('169069000');
  });

  it('take overrides', () => {
    expect(examplePatient({ gender: 'female' }).gender).toBe('female');
    expect(exampleFulfilmentTask({ status: 'accepted' }).status).toBe('accepted');
    expect(exampleEndpoint({ id: 'pacs-2' }).id).toBe('pacs-2');
    expect(exampleDiagnosticReport({}, 'CRITICAL')).toSatisfy((r) => alertCategoryOf(r) === 'CRITICAL');
    expect(alertCategoryOf(exampleDiagnosticReport())).toBe('URGENT');
  });

  it('stay valid with every alert category and for the acknowledgement Task', () => {
    for (const c of ['CRITICAL', 'URGENT', 'CANCER', 'SIGNIFICANT', 'NONE'] as const)
      assertValid(exampleDiagnosticReport({}, c));
    assertValid(exampleAcknowledgementTask({ status: 'completed' }));
  });

  it('are fresh objects: changing one does not change the next', () => {
    const first = exampleServiceRequest();
    first.identifier?.push({ system: 'x', value: 'y' });
    (first.performer ?? []).length = 0;
    expect(exampleServiceRequest().identifier).toHaveLength(1);
    expect(exampleServiceRequest().performer).toHaveLength(1);
    const task = exampleFulfilmentTask();
    if (task.focus?.identifier) task.focus.identifier.value = 'changed';
    expect(exampleFulfilmentTask().focus?.identifier?.value).toBe(EXAMPLE.placerOrder);
  });
});

describe('profileDefinitions', () => {
  it('declare each profile URL the examples use, plus the alert-category extension, as valid base R4', () => {
    const definitions = profileDefinitions();
    const urls = definitions.map((d) => d.url);
    for (const r of allExamples()) for (const p of r.meta?.profile ?? []) expect(urls).toContain(p);
    expect(urls).toContain(EXTENSIONS.alertCategory);
    for (const d of definitions) expect(validationIssues(d)).toEqual([]);
    expect(definitions.find((d) => d.type === 'ServiceRequest')?.baseDefinition).toBe(
      'http://hl7.org/fhir/StructureDefinition/ServiceRequest',
    );
  });
});
