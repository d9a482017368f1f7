import type { DiagnosticReport, Task } from '@medplum/fhirtypes';
import { SYSTEMS } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { outcomeErrorOf } from '@imaging/fhir/testing';
import { twoDeliveredOrders } from '../testing/pathway.ts';
import { describe, expect, it } from 'vitest';
import { RIS } from '../testing/regions.ts';
import { issueFinalReport } from '../testing/turnaround.ts';
import type { GatewayDeps } from './ports.ts';
import { updateTask } from './tasks.ts';

/** Orders A and B of the north GP for RM1, for two patients, delivered: the midlands' copies and their Tasks. */
async function ordersAAndB() {
  const { midlands, A, B, taskOf } = await twoDeliveredOrders();
  return { midlands, A: { order: A, task: taskOf(A) }, B: { order: B, task: taskOf(B) } };
}

async function move(deps: GatewayDeps, task: WithId<Task>, status: Task['status'], extra: Partial<Task> = {}) {
  return updateTask(deps, RIS, task.id, { ...task, status, ...extra }, task.meta?.versionId, 'case-1');
}

const started = async (deps: GatewayDeps, task: WithId<Task>) =>
  move(deps, await move(deps, task, 'accepted'), 'in-progress');
const withReport = (report: { id?: string }) => ({
  output: [{ type: { text: 'report' }, valueReference: { reference: `DiagnosticReport/${report.id}` } }],
});

describe('completing a fulfilment Task', () => {
  it("will not complete another order's Task with a report based on several orders (stored before the one-order rule)", async () => {
    const { midlands, A, B } = await ordersAAndB();
    const report = await issueFinalReport(midlands, RIS, A.order, { category: 'NONE', issued: midlands.clock.now() });
    // A copy of A's report, based on A and B too: what a RIS could write before results.ts refused it.
    const { id: _id, ...copy } = report;
    const { resource: planted } = await midlands.store.create<DiagnosticReport>({
      ...copy,
      meta: { ...copy.meta, versionId: undefined, lastUpdated: undefined },
      identifier: [{ system: SYSTEMS.report, value: 'RM1-REP-PLANTED' }],
      basedOn: [...(report.basedOn ?? []), { reference: `ServiceRequest/${B.order.id}` }],
    });
    const taskB = await started(midlands, B.task);
    const err = await outcomeErrorOf(move(midlands, taskB, 'completed', withReport(planted)));
    expect(err.status).toBe(422);
    expect(err.outcome.issue.map((i) => i.expression)).toEqual([['Task.output[0].valueReference']]);
    expect((await midlands.store.read<Task>('Task', B.task.id)).status).toBe('in-progress');
    // Nor A's: that report is no one order's. A's own report completes A's Task.
    const taskA = await started(midlands, A.task);
    expect((await outcomeErrorOf(move(midlands, taskA, 'completed', withReport(planted)))).status).toBe(422);
    expect((await move(midlands, taskA, 'completed', withReport(report))).status).toBe('completed');
  });
});

describe("a fulfilment Task's output", () => {
  it("names only its own order's results, whatever status it moves to: A's report on B's Task is a 422", async () => {
    const { midlands, A, B } = await ordersAAndB();
    const reportA = await issueFinalReport(midlands, RIS, A.order, { category: 'NONE', issued: midlands.clock.now() });
    const startedB = await started(midlands, B.task);
    for (const status of ['in-progress', 'completed'] as const) {
      const err = await outcomeErrorOf(move(midlands, startedB, status, withReport(reportA)));
      expect(err.status).toBe(422);
      expect(err.outcome.issue.map((i) => [i.expression, i.details?.text])).toEqual([
        [
          ['Task.output[0].valueReference'],
          `DiagnosticReport/${reportA.id} is not a study or report of ServiceRequest/${B.order.id} alone`,
        ],
      ]);
    }
    const err = await outcomeErrorOf(
      move(midlands, startedB, 'in-progress', {
        output: [
          {
            type: { text: 'patient' },
            valueReference: { reference: `Patient/${A.order.subject?.reference?.split('/')[1]}` },
          },
        ],
      }),
    );
    expect(err.status).toBe(422);
    expect((await midlands.store.read<Task>('Task', B.task.id)).output).toBeUndefined();
    // A's own report on A's Task, in progress and then completed, is its result.
    const startedA = await started(midlands, A.task);
    expect((await move(midlands, startedA, 'completed', withReport(reportA))).output).toEqual(
      withReport(reportA).output,
    );
  });
});
