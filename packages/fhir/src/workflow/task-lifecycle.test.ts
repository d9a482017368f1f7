import { describe, expect, it } from 'vitest';
import { OutcomeError } from '../outcomes.ts';
import { TASK_STATUSES } from '../terminology/r4-codes.ts';
import type { TaskStatus } from '../terminology/r4-codes.ts';
import {
  assertTransition,
  canTransition,
  classifyStatusUpdate,
  isReachable,
  isTaskStatus,
  isTerminal,
  nextStatuses,
  progressRank,
} from './task-lifecycle.ts';

// The legal transitions, written out independently of the implementation's table.
const LEGAL = new Set([
  'draft>requested',
  'draft>cancelled',
  'requested>received',
  'requested>accepted',
  'requested>rejected',
  'requested>on-hold',
  'requested>cancelled',
  'received>accepted',
  'received>rejected',
  'received>on-hold',
  'received>cancelled',
  'accepted>in-progress',
  'accepted>on-hold',
  'accepted>cancelled',
  'ready>in-progress',
  'ready>cancelled',
  'in-progress>completed',
  'in-progress>failed',
  'in-progress>on-hold',
  'in-progress>cancelled',
  'on-hold>accepted',
  'on-hold>in-progress',
  'on-hold>cancelled',
  // entered-in-error: a correction, from anywhere but itself
  ...TASK_STATUSES.filter((s) => s !== 'entered-in-error').map((s) => `${s}>entered-in-error`),
]);

const pairs = TASK_STATUSES.flatMap((from) =>
  TASK_STATUSES.map((to) => [from, to, LEGAL.has(`${from}>${to}`)] as const),
);

describe('Task transitions, every pair', () => {
  it('covers all 144 pairs', () => expect(pairs).toHaveLength(144));

  it.each(pairs)('%s → %s legal: %s', (from, to, legal) => {
    expect(canTransition(from, to)).toBe(legal);
    if (legal) {
      expect(() => assertTransition(from, to)).not.toThrow();
    } else {
      let error: unknown;
      try {
        assertTransition(from, to);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(OutcomeError);
      const { status, outcome } = error as OutcomeError;
      expect(status).toBe(422);
      expect(outcome.issue).toHaveLength(1);
      expect(outcome.issue?.[0]?.code).toBe('business-rule');
      expect(outcome.issue?.[0]?.expression).toEqual(['Task.status']);
      const text = outcome.issue?.[0]?.details?.text ?? '';
      expect(text).toContain(`'${from}'`);
      expect(text).toContain(`'${to}'`);
      for (const next of nextStatuses(from)) expect(text).toContain(next);
    }
  });
});

describe('Task lifecycle', () => {
  it('the happy path is legal step by step and rank rises along it', () => {
    const path: TaskStatus[] = ['requested', 'received', 'accepted', 'in-progress', 'completed'];
    for (let i = 1; i < path.length; i++) {
      const [from, to] = [path[i - 1] as TaskStatus, path[i] as TaskStatus];
      expect(canTransition(from, to)).toBe(true);
      expect(progressRank(to)).toBeGreaterThan(progressRank(from));
    }
  });

  it('terminal states are exactly those with no way on but entered-in-error', () => {
    const terminal = TASK_STATUSES.filter(isTerminal);
    expect(terminal.sort()).toEqual(['cancelled', 'completed', 'entered-in-error', 'failed', 'rejected']);
    for (const s of terminal) expect(nextStatuses(s).filter((n) => n !== 'entered-in-error')).toEqual([]);
    for (const s of TASK_STATUSES.filter((s) => !isTerminal(s))) expect(canTransition(s, 'cancelled')).toBe(true);
  });

  it('nothing moves into ready, draft or requested except draft → requested', () => {
    for (const from of TASK_STATUSES) {
      expect(canTransition(from, 'ready')).toBe(false);
      expect(canTransition(from, 'draft')).toBe(false);
      expect(canTransition(from, 'requested')).toBe(from === 'draft');
    }
  });

  it('a final state names itself in the refusal', () => {
    expect(() => assertTransition('completed', 'in-progress')).toThrow(/'completed' .*'in-progress'.*entered-in-error/);
    expect(() => assertTransition('entered-in-error', 'completed')).toThrow(/'entered-in-error' is final/);
  });

  it('every outcome outranks every live state', () => {
    const live = TASK_STATUSES.filter((s) => !isTerminal(s));
    for (const done of ['completed', 'failed', 'rejected', 'cancelled'] as const) {
      for (const s of live) expect(progressRank(done)).toBeGreaterThan(progressRank(s));
    }
    expect(progressRank('entered-in-error')).toBe(Math.max(...TASK_STATUSES.map(progressRank)));
  });

  it('reachability follows chains of legal transitions', () => {
    expect(isReachable('requested', 'completed')).toBe(true);
    expect(isReachable('accepted', 'rejected')).toBe(false);
    expect(isReachable('completed', 'in-progress')).toBe(false);
    expect(isReachable('on-hold', 'on-hold')).toBe(true);
    expect(isReachable('entered-in-error', 'completed')).toBe(false);
  });

  it('recognises Task statuses', () => {
    expect(isTaskStatus('in-progress')).toBe(true);
    expect(isTaskStatus('done')).toBe(false);
    expect(isTaskStatus(undefined)).toBe(false);
  });
});

describe('classifyStatusUpdate: stale, repeated, skipped-ahead or illegal', () => {
  it.each([
    ['accepted', 'accepted', 'same'],
    ['requested', 'accepted', 'advance'],
    ['accepted', 'completed', 'advance'], // in-progress is still on its way
    ['requested', 'failed', 'advance'],
    ['completed', 'in-progress', 'stale'], // arrived late
    ['in-progress', 'accepted', 'stale'],
    ['cancelled', 'in-progress', 'stale'], // the performer had not yet heard of the cancellation
    ['entered-in-error', 'completed', 'stale'],
    ['completed', 'entered-in-error', 'advance'],
    ['on-hold', 'accepted', 'advance'], // resumption
    ['rejected', 'accepted', 'illegal'], // two conflicting decisions
    ['completed', 'failed', 'illegal'],
    ['failed', 'completed', 'illegal'],
    ['ready', 'received', 'illegal'],
  ] as const)('held at %s, update says %s: %s', (current, incoming, expected) => {
    expect(classifyStatusUpdate(current, incoming)).toBe(expected);
  });

  it('every legal transition is an advance, and its reverse is never an advance unless also legal', () => {
    for (const [from, to, legal] of pairs) {
      if (!legal) continue;
      expect(classifyStatusUpdate(from, to)).toBe('advance');
      if (!canTransition(to, from)) expect(classifyStatusUpdate(to, from)).not.toBe('advance');
    }
  });
});
