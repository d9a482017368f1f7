import { isOutcomeError } from '@imaging/fhir';
import { isPortFree, PortInUseError, ServiceProcess } from '@imaging/service-process';
import { faultSteps } from './faults.ts';
import { startFlowView } from './flow-view.ts';
import type { DemoOptions } from './options.ts';
import { pathwaySteps } from './pathway.ts';
import { safetySteps } from './safety.ts';
import { securitySteps } from './security.ts';
import { startTopology } from './startup.ts';
import type { DemoContext, Step } from './steps.ts';
import { createTimeline } from './timeline.ts';
import type { ServiceName } from './world.ts';
import { demoTopology, prepareWorld, runIds, serviceSpecs } from './world.ts';

export const SCENARIO: Step[] = [startTopology, ...pathwaySteps, ...safetySteps, ...securitySteps, ...faultSteps];

/** The steps a run takes: the reference scenario, or without it only the start of the topology. */
export function stepsOf(options: Pick<DemoOptions, 'scenario'>): Step[] {
  return options.scenario ? SCENARIO : [startTopology];
}

export interface DemoResult {
  passed: number;
  total: number;
}

export interface DemoRun {
  /** Resolves when the scenario has run (the services are still up). */
  result: Promise<DemoResult>;
  /** Stops every service the demo started (idempotent). */
  stop(): Promise<void>;
  /** Steps passed so far (for a summary when the run is interrupted). */
  passedSoFar(): number;
  /** How many steps the run takes. */
  total: number;
  context: DemoContext;
}

/**
 * Runs the reference scenario against the real services: the hub and three gateways as processes on
 * 127.0.0.1, with real tokens and their own stores, each step verified against those stores.
 */
export function startDemo(options: DemoOptions, write: (text: string) => void): DemoRun {
  const timeline = createTimeline(write);
  const steps = stepsOf(options);
  const topology = demoTopology(options);
  const specs = serviceSpecs(options, topology);
  const services = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [name, new ServiceProcess(spec)]),
  ) as Record<ServiceName, ServiceProcess>;
  const context: DemoContext = {
    options,
    topology,
    dataDir: options.dataDir,
    ids: runIds(),
    timeline,
    services,
    startedAt: new Date(),
    facts: new Map(),
  };

  let passed = 0;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await context.flowView?.stop().catch(() => undefined);
      await Promise.all(Object.values(services).map((s) => s.stop().catch(() => undefined)));
      await context.stores?.close().catch(() => undefined);
    })());

  const result = (async (): Promise<DemoResult> => {
    timeline.line(
      options.scenario
        ? `imaging-connect demo: a CT ordered in the north, performed and reported in the midlands, found from the south`
        : `imaging-connect: the national hub and three regional gateways, with empty stores, to explore (docs/api.md)`,
    );
    timeline.line(
      `  hub ${topology.hub.url}   gateways ${topology.regions.map((r) => `${r.id} ${r.url}`).join('   ')}`,
    );
    timeline.line(
      `  stores: ${options.hapiUrl ? `HAPI FHIR ${options.hapiUrl}/{hub,north,midlands,south}` : `embedded SQLite under ${options.dataDir}`}   logs: ${options.dataDir}/logs`,
    );
    timeline.line(`  patient NHS number ${context.ids.nhsNumber} (test range), orders ${context.ids.placer(1)}…`);
    timeline.line();
    timeline.line(`     time  ${'where'.padEnd(19)} ${'who'.padEnd(16)} ${'what'.padEnd(62)}      hop`);

    // Before the data dir is wiped: a demo still running on these ports would lose its keys and stores.
    const taken = await portsTaken(Object.values(services));
    if (taken.length) {
      timeline.line(`demo: nothing started, and ${options.dataDir} left as it is:\n${taken.join('\n')}`);
      return { passed: 0, total: steps.length };
    }
    try {
      await prepareWorld(options.dataDir, topology);
    } catch (err) {
      timeline.line(`demo: cannot prepare ${options.dataDir}: ${(err as Error).message}`);
      return { passed: 0, total: steps.length };
    }

    for (const [i, step] of steps.entries()) {
      const index = i + 1;
      timeline.step(index, steps.length, step.title);
      const began = performance.now();
      try {
        await step.run(context);
        passed++;
        timeline.result(index, steps.length, true, performance.now() - began);
        // Exploring: the flow view comes up with the topology, so the audience watches the scenario on it.
        if (step === startTopology && options.explore) await openFlowView(context);
      } catch (err) {
        const text = failureText(err);
        timeline.event({ where: 'demo', who: 'demo', what: text, kind: 'fail' });
        // A service that died is the likely cause: show its log (unless the failure already does).
        for (const service of Object.values(services)) {
          if (service.unexpectedExit && !text.includes(service.spec.logFile))
            timeline.line(`  the ${service.spec.label} ${service.unexpectedExit}:\n${service.logTail({ indent: 4 })}`);
        }
        timeline.result(index, steps.length, false, performance.now() - began);
        const skipped = steps.slice(index).map((s, j) => `  step ${index + 1 + j}/${steps.length} not run: ${s.title}`);
        if (skipped.length) timeline.line(['', ...skipped].join('\n'));
        break;
      }
    }
    timeline.line();
    timeline.line(`The scenario took ${(timeline.elapsed() / 1000).toFixed(1)} s.`);
    return { passed, total: steps.length };
  })();

  return { result, stop, context, passedSoFar: () => passed, total: steps.length };
}

async function openFlowView(ctx: DemoContext): Promise<void> {
  try {
    const view = await startFlowView(ctx);
    if (typeof view === 'string') ctx.timeline.line(`flow view: ${view}`);
    else {
      ctx.flowView = view;
      ctx.timeline.line(
        `flow view: ${view.url}   (live; open it in a browser to watch the scenario and drive the demo)`,
      );
    }
  } catch (err) {
    ctx.timeline.line(`flow view: not started: ${(err as Error).message}`);
  }
}

function failureText(err: unknown): string {
  if (isOutcomeError(err)) return `${err.status} ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * One message for each service whose port something already listens on: checked once, before the data dir
 * is wiped (a launch that loses a race for its port still fails with the same message).
 */
async function portsTaken(services: readonly ServiceProcess[]): Promise<string[]> {
  const taken = [];
  for (const service of services)
    if (!(await isPortFree(service.spec.port, service.spec.host))) taken.push(new PortInUseError(service.spec).message);
  return taken;
}
