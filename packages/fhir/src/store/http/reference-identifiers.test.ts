import { validateResource } from '@medplum/core';
import { describe, expect, it } from 'vitest';
import { NEXT_CHECK_SEARCH_PARAMETER } from '../../search-parameters.ts';
import { SqliteStore } from '../sqlite/sqlite-store.ts';
import {
  customSearchParameters,
  ensureReferenceIdentifierSearchParameters,
  referenceIdentifierSearchParameter,
  rewriteReferenceIdentifiers,
} from './reference-identifiers.ts';

describe('reference-identifier SearchParameters', () => {
  it('Task.owner:identifier is a token parameter on Task.owner.identifier', () => {
    expect(referenceIdentifierSearchParameter('Task', 'owner')).toMatchObject({
      resourceType: 'SearchParameter',
      url: 'https://imaging-connect.example/fhir/SearchParameter/Task-owner-identifier',
      status: 'active',
      code: 'owner-identifier',
      base: ['Task'],
      type: 'token',
      expression: 'Task.owner.identifier',
    });
  });

  it('narrows a shared parameter to its type and drops resolve(), which a logical reference cannot do', () => {
    expect(referenceIdentifierSearchParameter('DocumentReference', 'patient').expression).toBe(
      'DocumentReference.subject.identifier',
    );
    expect(referenceIdentifierSearchParameter('Task', 'patient').expression).toBe('Task.for.identifier');
  });

  it('refuses a parameter that is not a reference', () => {
    expect(() => referenceIdentifierSearchParameter('Task', 'status')).toThrow(/not a reference/);
  });

  it('every one is a valid R4 SearchParameter with a distinct URL', () => {
    const all = customSearchParameters();
    expect(all.length).toBeGreaterThan(10);
    for (const sp of all) expect(() => validateResource(sp)).not.toThrow();
    expect(new Set(all.map((sp) => sp.url)).size).toBe(all.length);
  });

  it('installing is idempotent: the first run creates them all, the second none', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const first = await ensureReferenceIdentifierSearchParameters(store);
    expect(first).toEqual(customSearchParameters().map((sp) => sp.url));
    expect(first).toContain(NEXT_CHECK_SEARCH_PARAMETER.url);
    expect(await ensureReferenceIdentifierSearchParameters(store)).toEqual([]);
    await store.close();
  });

  it('rewrites :identifier on the listed parameters only, keeping every other key and all values', () => {
    const params = new URLSearchParams([
      ['owner:identifier', 'https://fhir.nhs.uk/Id/ods-organization-code|RM1'],
      ['status', 'requested,accepted'],
      ['focus:identifier', 'x|y'],
      ['owner', 'Organization/o1'],
    ]);
    expect([...rewriteReferenceIdentifiers('Task', params)]).toEqual([
      ['owner-identifier', 'https://fhir.nhs.uk/Id/ods-organization-code|RM1'],
      ['status', 'requested,accepted'],
      ['focus:identifier', 'x|y'],
      ['owner', 'Organization/o1'],
    ]);
    expect([
      ...rewriteReferenceIdentifiers('Patient', new URLSearchParams('general-practitioner:identifier=a|b')),
    ]).toEqual([['general-practitioner:identifier', 'a|b']]);
  });
});
