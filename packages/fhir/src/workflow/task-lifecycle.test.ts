import fc from 'fast-check';
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

const anyStatus = fc.constantFrom(...TASK_STATUSES);

/**
 * A walk of legal transitions from `start`: each step takes one of the legal next states (the choice
 * is `pick` modulo how many there are), and the walk stops early where there is none.
 */
function walk(start: TaskStatus, picks: readonly number[], allowed: (s: TaskStatus) => boolean = () => true) {
  const states: TaskStatus[] = [start];
  for (const pick of picks) {
    const options = nextStatuses(states.at(-1) as TaskStatus).filter(allowed);
    if (options.length === 0) break;
    states.push(options[pick % options.length] as TaskStatus);
  }
  return states;
}

const picks = fc.array(fc.nat(), { maxLength: 30 });

describe('Task status rules, as properties', () => {
  it('a walk of legal transitions from requested never leaves a terminal state, except to entered-in-error', () => {
    fc.assert(
      fc.property(picks, (choices) => {
        const states = walk('requested', choices);
        const firstTerminal = states.findIndex(isTerminal);
        if (firstTerminal < 0) return;
        const after = states.slice(firstTerminal + 1);
        expect(after.every((s) => s === 'entered-in-error')).toBe(true);
        expect(after.length).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('along a legal walk, only a move to on-hold lowers the progress rank', () => {
    fc.assert(
      fc.property(anyStatus, picks, (start, choices) => {
        const states = walk(start, choices);
        for (let i = 1; i < states.length; i++) {
          const [from, to] = [states[i - 1] as TaskStatus, states[i] as TaskStatus];
          if (to !== 'on-hold') expect(progressRank(to)).toBeGreaterThanOrEqual(progressRank(from));
        }
      }),
    );
  });

  it('every later state of a legal walk is reachable from every earlier one, and no pair of them is illegal', () => {
    fc.assert(
      fc.property(anyStatus, picks, (start, choices) => {
        const states = walk(start, choices);
        for (let i = 0; i < states.length; i++) {
          for (let j = i + 1; j < states.length; j++) {
            const [a, b] = [states[i] as TaskStatus, states[j] as TaskStatus];
            if (a !== b) expect(isReachable(a, b)).toBe(true);
            expect(classifyStatusUpdate(a, b)).not.toBe('illegal');
          }
        }
      }),
    );
  });

  it("'same' exactly when both states are equal", () => {
    fc.assert(
      fc.property(anyStatus, anyStatus, (a, b) => {
        expect(classifyStatusUpdate(a, b) === 'same').toBe(a === b);
      }),
    );
  });

  it("'advance' means the incoming state is reachable; 'stale' that the current one is reachable from it", () => {
    fc.assert(
      fc.property(anyStatus, anyStatus, (a, b) => {
        const update = classifyStatusUpdate(a, b);
        if (update === 'advance') expect(isReachable(a, b)).toBe(true);
        if (update === 'stale') {
          expect(isReachable(b, a)).toBe(true);
          expect(canTransition(a, b)).toBe(false);
        }
      }),
    );
  });

  it("stale and advance are antisymmetric: a stale update is an advance the other way, and 'illegal' is symmetric", () => {
    fc.assert(
      fc.property(anyStatus, anyStatus, (a, b) => {
        const there = classifyStatusUpdate(a, b);
        const back = classifyStatusUpdate(b, a);
        if (there === 'stale') expect(back).toBe('advance');
        if (there === 'advance') expect(back).not.toBe('illegal');
        expect(there === 'illegal').toBe(back === 'illegal');
      }),
    );
  });

  it('reachability is transitive, and every legal transition is reachable', () => {
    fc.assert(
      fc.property(anyStatus, anyStatus, anyStatus, (a, b, c) => {
        if (canTransition(a, b)) expect(isReachable(a, b)).toBe(true);
        if (isReachable(a, b) && isReachable(b, c)) expect(isReachable(a, c)).toBe(true);
      }),
    );
  });

  /**
   * At-least-once delivery: a receiver applies what classifies as 'advance' and drops the rest. Away from
   * on-hold the lifecycle has no cycles, so whatever the order and however often each update arrives, the
   * receiver ends where the sender did. (Around on-hold, a late `on-hold` can be a legal step back: order
   * matters there, which is why updates carry their Task's whole state.)
   */
  it('a receiver fed the updates of a walk without on-hold, shuffled and repeated, ends where the walk ended', () => {
    const noHold = (s: TaskStatus) => s !== 'on-hold';
    fc.assert(
      fc.property(
        picks.chain((choices) => {
          const states = walk('requested', choices, noHold);
          const updates = states.slice(1);
          return fc.tuple(
            fc.constant(states),
            fc.shuffledSubarray([...updates, ...updates], { minLength: updates.length * 2 }),
            fc.array(fc.constantFrom(...states), { maxLength: 5 }),
          );
        }),
        ([states, delivered, repeats]) => {
          let held: TaskStatus = 'requested';
          for (const incoming of [...delivered, ...repeats]) {
            const update = classifyStatusUpdate(held, incoming);
            expect(update).not.toBe('illegal');
            if (update === 'advance') held = incoming;
          }
          expect(held).toBe(states.at(-1));
        },
      ),
    );
  });
});
