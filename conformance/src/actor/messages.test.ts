import type { Bundle } from '@medplum/fhirtypes';
import { SYSTEMS } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import { lifecycleProblems, outcomeProblems, statusesCarried, withFreshFocus } from './messages.ts';
import type { HubDelivery } from './stand-in-hub.ts';

const taskUpdate = (status: string): HubDelivery => ({
  url: 'http://north/fhir/$process-message',
  requestId: status,
  event: 'task-update',
  message: {
    resourceType: 'Bundle',
    type: 'message',
    entry: [
      {
        fullUrl: 'urn:uuid:h',
        resource: {
          resourceType: 'MessageHeader',
          eventCoding: { code: 'task-update' },
          source: { endpoint: 'imaging-midlands' },
        },
      },
      { fullUrl: 'urn:uuid:t', resource: { resourceType: 'Task', status: status as 'accepted', intent: 'order' } },
    ],
  },
});

describe('Task lifecycle as reported in messages', () => {
  it('reads the statuses the task-update messages carried, in order', () => {
    expect(statusesCarried(['accepted', 'in-progress', 'completed'].map(taskUpdate))).toEqual([
      'accepted',
      'in-progress',
      'completed',
    ]);
  });

  it('accepts the full path, with or without a reported receipt, and a repeat', () => {
    expect(lifecycleProblems(['accepted', 'in-progress', 'completed'], 'requested', 'completed')).toEqual([]);
    expect(lifecycleProblems(['received', 'accepted', 'in-progress', 'completed'], 'requested', 'completed')).toEqual(
      [],
    );
    expect(lifecycleProblems(['accepted', 'accepted', 'in-progress', 'completed'], 'requested', 'completed')).toEqual(
      [],
    );
  });

  it('names a move backwards, a move the lifecycle forbids, and an ending short of the goal', () => {
    expect(lifecycleProblems(['in-progress', 'accepted', 'completed'], 'requested', 'completed')).toEqual([
      'requested → in-progress is not a legal move',
      'in-progress → accepted is not a legal move',
      'accepted → completed is not a legal move',
    ]);
    expect(lifecycleProblems(['completed'], 'requested', 'completed')).toEqual([
      'requested → completed is not a legal move',
    ]);
    expect(lifecycleProblems(['accepted'], 'requested', 'completed')).toEqual([
      'the last status reported is accepted, not completed',
    ]);
    expect(lifecycleProblems(['rejected', 'accepted'], 'requested', 'completed')).toContain(
      'rejected → accepted is not a legal move',
    );
  });
});

describe('bad-input helpers', () => {
  const order: Bundle = {
    resourceType: 'Bundle',
    type: 'message',
    entry: [
      {
        fullUrl: 'urn:uuid:h',
        resource: {
          resourceType: 'MessageHeader',
          eventCoding: { code: 'servicerequest-request' },
          source: { endpoint: 'n' },
          focus: [{ reference: 'urn:uuid:sr' }],
        },
      },
      {
        fullUrl: 'urn:uuid:p',
        resource: {
          resourceType: 'Patient',
          identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' }],
        },
      },
      {
        fullUrl: 'urn:uuid:sr',
        resource: {
          resourceType: 'ServiceRequest',
          status: 'active',
          intent: 'order',
          subject: { reference: 'urn:uuid:p' },
          identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-1' }],
        },
      },
    ],
  };

  it('gives the focus (only) a new business identifier, leaving the original untouched', () => {
    const fresh = withFreshFocus(order, 'bad1');
    expect(fresh).toMatchObject({ focusType: 'ServiceRequest', system: SYSTEMS.placerOrder, value: 'N81001-1-bad1' });
    expect(JSON.stringify(fresh.message)).toContain('"9000000009"');
    expect(JSON.stringify(order)).not.toContain('bad1');
  });

  it('an answer must be an OperationOutcome with an error, and show no stack trace', () => {
    const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid' }] };
    expect(outcomeProblems(outcome, JSON.stringify(outcome))).toEqual([]);
    expect(outcomeProblems(undefined, '<html>401</html>')).toEqual([
      'the body is not an OperationOutcome: <html>401</html>',
    ]);
    const warningOnly = { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'invalid' }] };
    expect(outcomeProblems(warningOnly, '{}')).toEqual([
      'the OperationOutcome has no issue of severity error or fatal',
    ]);
    const leaky = {
      ...outcome,
      issue: [{ severity: 'error', code: 'exception', diagnostics: 'TypeError: x\n    at f (/srv/app.ts:3:1)' }],
    };
    expect(outcomeProblems(leaky, JSON.stringify(leaky, null, 0).replace('\\n', '\n'))).toEqual([
      'the body shows a stack trace',
    ]);
  });
});
