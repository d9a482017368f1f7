import type { Task } from '@medplum/fhirtypes';
import { classifyStatusUpdate, OutcomeError, TASK_STATUSES } from '@imaging/fhir';
import type { TaskStatus, WithId } from '@imaging/fhir';
import { exampleFulfilmentTask } from '@imaging/fhir/examples';
import { isMessageRefusal, REQUESTER_CANCELLABLE } from '@imaging/messaging';
import { describe, expect, it } from 'vitest';
import { applyTaskUpdate } from './task-updates.ts';

const NOW = new Date('2026-02-03T04:05:06.000Z');

/** The local copy: stored, with progress of its own and fields the other region may not change. */
function local(status: TaskStatus): WithId<Task> {
  return {
    ...exampleFulfilmentTask(),
    id: 'local-1',
    meta: { versionId: '7', lastUpdated: '2026-01-01T00:00:00.000Z' },
    status,
    businessStatus: { text: 'held here' },
    statusReason: { text: 'local reason' },
    output: [{ type: { text: 'report' }, valueReference: { reference: 'DiagnosticReport/local' } }],
    focus: { reference: 'ServiceRequest/local-order' },
    for: { reference: 'Patient/local-patient' },
    lastModified: '2026-01-01T00:00:00.000Z',
  };
}

/** The update as the other region sends it: its own ids and references, new progress. */
function incoming(status: TaskStatus, progress: Partial<Task> = {}): Task {
  return {
    ...exampleFulfilmentTask(),
    id: 'theirs-9',
    meta: { versionId: '3' },
    status,
    businessStatus: { text: 'moved there' },
    statusReason: { text: 'their reason' },
    output: [{ type: { text: 'report' }, valueReference: { reference: 'DiagnosticReport/theirs' } }],
    focus: { reference: 'ServiceRequest/their-order' },
    for: { reference: 'Patient/their-patient' },
    description: 'not for the receiver to change',
    ...progress,
  };
}

function refusalOf(apply: () => unknown): OutcomeError {
  try {
    apply();
  } catch (err) {
    if (err instanceof OutcomeError) return err;
    throw err;
  }
  throw new Error('expected an OutcomeError, but the update was accepted');
}

/** The local copy with the other region's progress (all four fields) applied, and nothing else of theirs. */
function progressed(from: TaskStatus, update: Task): WithId<Task> {
  return {
    ...local(from),
    status: update.status,
    businessStatus: update.businessStatus,
    statusReason: update.statusReason,
    output: update.output,
    lastModified: NOW.toISOString(),
  };
}

const pairs = TASK_STATUSES.flatMap((from) =>
  TASK_STATUSES.map((to) => [from, to, classifyStatusUpdate(from, to)] as const),
);

describe('applyTaskUpdate follows classifyStatusUpdate, every pair of Task statuses', () => {
  it('covers all 144 pairs, with every kind of classification among them', () => {
    expect(pairs).toHaveLength(TASK_STATUSES.length ** 2);
    expect(TASK_STATUSES).toHaveLength(12);
    expect(new Set(pairs.map(([, , kind]) => kind))).toEqual(new Set(['same', 'advance', 'stale', 'illegal']));
  });

  it.each(pairs)('held at %s, update says %s (%s)', (from, to, kind) => {
    const update = incoming(to);
    switch (kind) {
      case 'advance':
        expect(applyTaskUpdate(local(from), update, NOW, 'performer')).toEqual(progressed(from, update));
        break;
      case 'same': {
        // A replay of the same progress changes nothing; new progress at the same status is taken.
        expect(applyTaskUpdate(local(from), incoming(from, local(from)), NOW, 'performer')).toBeUndefined();
        expect(applyTaskUpdate(local(from), update, NOW, 'performer')).toEqual(progressed(from, update));
        break;
      }
      case 'stale':
        expect(applyTaskUpdate(local(from), update, NOW, 'performer')).toBeUndefined();
        break;
      case 'illegal': {
        const error = refusalOf(() => applyTaskUpdate(local(from), update, NOW, 'performer'));
        expect(error.status).toBe(422);
        expect(error.outcome.issue?.[0]?.code).toBe('business-rule');
        expect(error.outcome.issue?.[0]?.expression).toEqual(['Task.status']);
        expect(error.message).toContain(`'${from}'`);
        expect(error.message).toContain(`'${to}'`);
        break;
      }
    }
  });
});

describe('applyTaskUpdate: updates that arrive out of order', () => {
  it('applies an update that skips a step (completed before in-progress has arrived)', () => {
    const update = incoming('completed');
    const updated = applyTaskUpdate(local('accepted'), update, NOW, 'performer');
    expect(updated?.status).toBe('completed');
    expect(updated?.output).toEqual(update.output);
  });

  it('ignores one the copy has moved past, and refuses one after a conflicting outcome', () => {
    expect(applyTaskUpdate(local('completed'), incoming('in-progress'), NOW, 'performer')).toBeUndefined();
    expect(refusalOf(() => applyTaskUpdate(local('rejected'), incoming('accepted'), NOW, 'performer')).status).toBe(
      422,
    );
  });

  it('refuses a status that is not a Task status with a 422, not a crash', () => {
    const error = refusalOf(() =>
      applyTaskUpdate(local('accepted'), { ...incoming('completed'), status: 'done' as TaskStatus }, NOW, 'performer'),
    );
    expect(error.status).toBe(422);
    expect(error.outcome.issue?.[0]?.expression).toEqual(['Task.status']);
    expect(error.message).toContain("'done'");
  });
});

describe('applyTaskUpdate: what an update carries', () => {
  it('takes status, businessStatus, statusReason and output, and keeps everything else local', () => {
    const update = incoming('in-progress');
    const updated = applyTaskUpdate(local('accepted'), update, NOW, 'performer');
    expect(updated).toMatchObject({
      id: 'local-1',
      meta: { versionId: '7' },
      status: 'in-progress',
      businessStatus: { text: 'moved there' },
      statusReason: { text: 'their reason' },
      output: update.output,
      focus: { reference: 'ServiceRequest/local-order' },
      for: { reference: 'Patient/local-patient' },
      lastModified: NOW.toISOString(),
    });
    expect(updated?.description).toBeUndefined();
  });

  it('drops a progress field the update no longer carries', () => {
    const updated = applyTaskUpdate(
      local('accepted'),
      incoming('in-progress', { statusReason: undefined, output: undefined }),
      NOW,
      'performer',
    );
    expect(updated?.businessStatus).toEqual({ text: 'moved there' });
    expect(updated && 'statusReason' in updated).toBe(false);
    expect(updated && 'output' in updated).toBe(false);
  });
});

describe("applyTaskUpdate: a cancel from the requester's region", () => {
  it('takes the status and its reason only: the performer’s businessStatus and output stay', () => {
    const updated = applyTaskUpdate(
      local('accepted'),
      incoming('cancelled', { businessStatus: undefined, output: undefined }),
      NOW,
      'requester',
    );
    expect(updated).toMatchObject({
      status: 'cancelled',
      statusReason: { text: 'their reason' },
      businessStatus: { text: 'held here' },
      output: local('accepted').output,
      lastModified: NOW.toISOString(),
    });
  });

  it('is a replay when status and reason are the same, whatever else it carries', () => {
    const cancelled = { ...local('cancelled'), statusReason: { text: 'their reason' } };
    expect(applyTaskUpdate(cancelled, incoming('cancelled'), NOW, 'requester')).toBeUndefined();
  });
});

describe("applyTaskUpdate: a cancel from the requester's region, by this copy's state", () => {
  it.each(['requested', 'received', 'accepted', 'on-hold'] as const)('cancels a Task %s here', (status) => {
    expect(applyTaskUpdate(local(status), incoming('cancelled'), NOW, 'requester')?.status).toBe('cancelled');
  });

  it.each(['in-progress', 'completed', 'failed', 'rejected', 'ready'] as const)(
    'refuses to cancel a Task %s here, as the requester may not locally (a message refusal)',
    (status) => {
      const error = refusalOf(() => applyTaskUpdate(local(status), incoming('cancelled'), NOW, 'requester'));
      expect(error.status).toBe(403);
      expect(isMessageRefusal(error.outcome)).toBe(true);
      expect(error.outcome.issue?.[0]?.expression).toEqual(['Task.status']);
      expect(error.message).toContain(`(it is ${status})`);
    },
  );

  it('is the one set of states both paths use', () => {
    expect([...REQUESTER_CANCELLABLE].sort()).toEqual(['accepted', 'on-hold', 'received', 'requested']);
  });
});
