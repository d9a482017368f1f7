import type { ServiceRequest, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { SUBSETTED, subsetted } from './subset.ts';

const LABEL = { system: 'https://example.test/access', code: 'N81001' };

const task: Task = {
  resourceType: 'Task',
  id: 't1',
  meta: { versionId: '3', security: [LABEL] },
  text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Fulfil</div>' },
  identifier: [{ system: 'urn:x', value: '1' }],
  status: 'requested',
  _status: { extension: [{ url: 'urn:note', valueString: 'kept with status' }] },
  intent: 'order',
  focus: { reference: 'ServiceRequest/s1' },
  owner: { identifier: { system: 'urn:ods', value: 'RM1' } },
  note: [{ text: 'not a summary element' }],
} as Task;

const keys = (resource: object) => Object.keys(resource).sort();

describe('subsetted', () => {
  it('_summary=true keeps the summary and mandatory elements, with id and meta, and tags the resource', () => {
    const summary = subsetted(task, { summary: 'true' });
    expect(keys(summary)).toEqual(['_status', 'focus', 'id', 'intent', 'meta', 'owner', 'resourceType', 'status']);
    expect(summary.meta).toEqual({ versionId: '3', security: [LABEL], tag: [SUBSETTED] });
  });

  it('_summary=text keeps the narrative and the mandatory elements', () => {
    expect(keys(subsetted(task, { summary: 'text' }))).toEqual([
      '_status',
      'id',
      'intent',
      'meta',
      'resourceType',
      'status',
      'text',
    ]);
  });

  it('_summary=data keeps all but the narrative', () => {
    const data = subsetted(task, { summary: 'data' });
    const { text: _text, meta: _meta, ...rest } = task;
    expect(data).toEqual({ ...rest, meta: { ...task.meta, tag: [SUBSETTED] } });
  });

  it('_elements keeps the listed elements, the mandatory ones, id and meta', () => {
    expect(keys(subsetted(task, { elements: ['owner', 'note'] }))).toEqual([
      '_status',
      'id',
      'intent',
      'meta',
      'note',
      'owner',
      'resourceType',
      'status',
    ]);
  });

  it('_elements keeps a choice element in whichever type it holds', () => {
    const order: ServiceRequest = {
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      subject: { reference: 'Patient/p1' },
      occurrenceDateTime: '2026-03-05T09:30:00Z',
      authoredOn: '2026-03-04T09:30:00Z',
    };
    expect(keys(subsetted(order, { elements: ['occurrence'] }))).toEqual([
      'intent',
      'meta',
      'occurrenceDateTime',
      'resourceType',
      'status',
      'subject',
    ]);
  });

  it('tags a resource SUBSETTED once, keeping its other tags', () => {
    const other = { system: 'urn:tag', code: 'x' };
    const once = subsetted({ ...task, meta: { tag: [other] } }, { elements: ['owner'] });
    expect(subsetted(once, { summary: 'true' }).meta?.tag).toEqual([other, SUBSETTED]);
  });
});
