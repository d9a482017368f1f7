import type { TestCase, TestModule, TestSuite } from 'vitest/node';
import type { Exchange } from '../record/exchange.ts';
import '../suite/meta.ts';
import type { ReportGroup, ReportModel, ReportTest } from './model.ts';
import { groupOf, outcomeOf, plain, totalsOf } from './model.ts';
import type { TargetInfo } from '../server/types.ts';

interface ErrorLike {
  message?: string;
  name?: string;
  diff?: string;
}

export function errorText(error: ErrorLike): string {
  const message = plain(
    `${error.name && error.name !== 'Error' && error.name !== 'AssertionError' ? `${error.name}: ` : ''}${error.message ?? String(error)}`,
  );
  return error.diff ? `${message}\n${plain(error.diff)}` : message;
}

function pathOf(test: TestCase): string[] {
  const path: string[] = [];
  for (let parent: TestSuite | TestModule = test.parent; parent.type === 'suite'; parent = parent.parent)
    path.unshift(parent.name);
  return path;
}

function reportTest(test: TestCase): ReportTest {
  const result = test.result();
  const meta = test.meta();
  const { outcome, deviation } = outcomeOf(result.state, test.fullName, meta.deviation);
  let reason = '';
  if (result.state === 'failed') reason = result.errors.map(errorText).join('\n\n');
  else if (result.state === 'skipped')
    reason = result.note ?? (test.options.mode === 'todo' ? 'not written yet (todo)' : 'skipped');
  else if (deviation)
    reason = `${outcome === 'deviation' ? 'Recorded deviation' : 'Claims a deviation that is not recorded'} ${deviation.key}: ${deviation.description}`;
  return {
    path: pathOf(test),
    name: test.name,
    outcome,
    durationMs: test.diagnostic()?.duration ?? 0,
    reason,
    ...(deviation ? { deviation } : {}),
    notes: meta.notes ?? [],
    exchanges: meta.exchanges ?? [],
  };
}

/** Every error recorded on a module or its suites (failed hooks, collection errors). */
function errorsOf(module: TestModule): string[] {
  const errors = module.errors().map(errorText);
  for (const suite of module.children.allSuites())
    errors.push(...suite.errors().map((e) => `${suite.fullName}: ${errorText(e)}`));
  return errors;
}

export interface CollectInput {
  modules: readonly TestModule[];
  unhandledErrors: readonly ErrorLike[];
  startedAt: Date;
  durationMs: number;
  target: TargetInfo | null;
  actorTarget?: string;
  title?: string;
}

/** The report's model from what vitest reported: one group per test file (or folder of files). */
export function collectReport(input: CollectInput): ReportModel {
  const groups = new Map<string, ReportGroup>();
  const modules = [...input.modules].sort((a, b) => a.relativeModuleId.localeCompare(b.relativeModuleId));
  for (const module of modules) {
    const { key, title } = groupOf(module.relativeModuleId);
    let group = groups.get(key);
    if (!group) {
      group = { key, title, tests: [], setupExchanges: [], errors: [] };
      groups.set(key, group);
    }
    group.tests.push(...[...module.children.allTests()].map(reportTest));
    group.setupExchanges.push(...((module.meta().exchanges as Exchange[] | undefined) ?? []));
    group.errors.push(...errorsOf(module));
  }
  const ordered = [...groups.values()].sort((a, b) => a.key.localeCompare(b.key, 'en', { numeric: true }));
  return {
    title: input.title ?? 'imaging-connect conformance',
    startedAt: input.startedAt.toISOString(),
    durationMs: input.durationMs,
    target: input.target,
    ...(input.actorTarget ? { actorTarget: input.actorTarget } : {}),
    groups: ordered,
    totals: totalsOf(ordered),
    unhandledErrors: input.unhandledErrors.map(errorText),
  };
}
