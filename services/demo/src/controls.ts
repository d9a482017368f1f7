import { randomUUID } from 'node:crypto';
import type { Task } from '@medplum/fhirtypes';
import { isOutcomeError, NHS_NUMBER_SYSTEM } from '@imaging/fhir';
import type { AlertCategory, WithId } from '@imaging/fhir';
import { examplePatient } from '@imaging/fhir/examples';
import type { DemoControls, DemoOutcome } from '@imaging/flow-view';
import { orderFor, taskIdentifier } from './pathway.ts';
import type { DemoContext } from './steps.ts';
import { actors } from './steps.ts';
import type { ServiceName } from './world.ts';
import { REGIONS } from './world.ts';

const DICOMWEB = 'https://pacs.rm1.example/dicomweb';

/** Orders placed from the view are numbered from here, clear of the scenario's 1, 2 and 3. */
const FIRST_ORDER = 101;

/**
 * The flow view's buttons, acting on the demo's topology with the same simulated systems the scenario uses:
 * GP practice N81001's system places an order for RM1, RM1's RIS/PACS reports the newest one not yet
 * reported, and a region's gateway is stopped (SIGTERM) or started again.
 */
export function demoControls(ctx: DemoContext): DemoControls {
  let next = FIRST_ORDER;
  /** Orders placed here and not yet reported, oldest first. */
  const waiting: { n: number; task: string }[] = [];

  const attempt = async (what: string, work: () => Promise<DemoOutcome>): Promise<DemoOutcome> => {
    try {
      return await work();
    } catch (err) {
      const why = isOutcomeError(err) ? `${err.status} ${err.message}` : (err as Error).message;
      return { ok: false, text: `Could not ${what}: ${why}` };
    }
  };

  return {
    about: {
      order: 'GP practice N81001 in the north orders a CT chest from RM1, a diagnostic centre in the midlands.',
      report:
        "RM1's RIS/PACS accepts and images the newest order placed here, issues its report with this alert category, and completes it.",
    },

    placeOrder: () =>
      attempt('place the order', async () => {
        const { gp } = actors(ctx);
        if (!ctx.facts.has('patient'))
          ctx.facts.set(
            'patient',
            await gp.registerPatient(
              examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: ctx.ids.nhsNumber }] }),
            ),
          );
        const n = next++;
        const placed = await gp.placeOrder(orderFor(ctx, n), { correlationId: ctx.ids.caseId(n) });
        waiting.push({ n, task: taskIdentifier(placed.task) });
        return {
          ok: true,
          text: `Order ${ctx.ids.placer(n)} placed in the north, for RM1 in the midlands.`,
          correlationId: ctx.ids.caseId(n),
        };
      }),

    issueReport: (category: AlertCategory) =>
      attempt('issue the report', async () => {
        const order = waiting.at(-1);
        if (!order) return { ok: false, text: 'Place an order first: every order placed here has its report.' };
        const { ris } = actors(ctx);
        const options = { correlationId: ctx.ids.caseId(order.n) };
        const placer = ctx.ids.placer(order.n);
        const work = (await ris.findNewTasks(options)).find((t) => taskIdentifier(t) === order.task);
        if (!work)
          return {
            ok: false,
            text: `Order ${placer} has not reached RM1 in the midlands yet: is the midlands gateway down?`,
            correlationId: options.correlationId,
          };
        const accepted = await ris.acceptTask(work, options);
        const started = await ris.startTask(accepted, options);
        const request = await ris.readOrder(started, options);
        const endpoint = await ris.registerDicomWebEndpoint(DICOMWEB, 'RM1 PACS DICOMweb (WADO-RS)', options);
        const study = await ris.recordImagingStudy(
          request,
          endpoint.resource,
          {
            studyUid: `2.25.${BigInt(`0x${randomUUID().replaceAll('-', '')}`).toString()}`,
            accession: `RM1-ACC-${ctx.ids.stamp}-${order.n}`,
            description: 'CT chest',
          },
          options,
        );
        const report = await ris.issueReport(
          request,
          study.resource,
          {
            alertCategory: category,
            conclusion: `Reported from the flow view with alert category ${category} (test data).`,
            identifier: `RM1-REP-${ctx.ids.stamp}-${order.n}`,
          },
          options,
        );
        await ris.completeTask(started as WithId<Task>, report.resource, options);
        waiting.splice(waiting.indexOf(order), 1);
        return {
          ok: true,
          text: `RM1 reported order ${placer} (alert category ${category}) and completed it.`,
          correlationId: options.correlationId,
        };
      }),

    stopRegion: (id) =>
      attempt(`stop the ${id} gateway`, async () => {
        const service = ctx.services[id as ServiceName];
        if (!service.running) return { ok: true, text: `The ${id} gateway is already down.` };
        const how = await service.stop();
        return { ok: true, text: `The ${id} gateway was stopped (SIGTERM, exit ${how}). Messages for it now wait.` };
      }),

    startRegion: (id) =>
      attempt(`start the ${id} gateway`, async () => {
        const service = ctx.services[id as ServiceName];
        if (service.running) return { ok: true, text: `The ${id} gateway is already up.` };
        await service.start();
        return {
          ok: true,
          text: `The ${id} gateway is back (pid ${service.pid}). What waited for it is delivered now.`,
        };
      }),

    regions: () => REGIONS.map((id) => ({ id, running: ctx.services[id].running })),
  };
}
