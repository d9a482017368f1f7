import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, SerializedError, TestModule, Vitest } from 'vitest/node';
import '../suite/meta.ts';
import { takeSetupError } from '../suite/setup-error.ts';
import { collectReport } from './collect.ts';
import { renderHtml } from './html.ts';
import type { ReportModel } from './model.ts';
import { runPassed } from './model.ts';
import { toTestReport } from './testreport.ts';

export interface ConformanceReporterOptions {
  outDir: string;
  /** The report's title, e.g. naming the database of the run. */
  title?: string;
  log?: (line: string) => void;
}

/**
 * Writes report.html and testreport.json when the run ends (junit.xml comes from vitest's own junit
 * reporter), and keeps the verdict for the CLI's exit code: vitest's own would count a test that met a
 * recorded deviation as a pass anyway, but not one that claims a deviation nobody recorded.
 */
export class ConformanceReporter implements Reporter {
  private readonly options: ConformanceReporterOptions;
  private vitest: Vitest | undefined;
  private startedAt = new Date();
  private began = performance.now();
  model: ReportModel | undefined;
  passed = false;

  constructor(options: ConformanceReporterOptions) {
    this.options = options;
  }

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    this.startedAt = new Date();
    this.began = performance.now();
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    const project = modules[0]?.project ?? this.vitest?.projects.find((p) => p.name === 'conformance');
    let provided: ReturnType<NonNullable<typeof project>['getProvidedContext']> | undefined;
    try {
      provided = project?.getProvidedContext();
    } catch {
      provided = undefined;
    }
    const options = provided?.options;
    const actorRan = modules.some((m) => m.relativeModuleId.includes('5-actor'));
    const setupError = takeSetupError();
    const model = collectReport({
      modules,
      unhandledErrors: setupError
        ? [{ name: 'Error', message: `The suite's global set-up failed: ${setupError}` }, ...unhandledErrors]
        : unhandledErrors,
      startedAt: this.startedAt,
      durationMs: performance.now() - this.began,
      target: provided?.target ?? null,
      ...(this.options.title ? { title: this.options.title } : {}),
      ...(actorRan ? { actorTarget: options?.actorTarget ?? 'our own regional gateway (started by the suite)' } : {}),
    });
    this.model = model;
    this.passed = runPassed(model);
    mkdirSync(this.options.outDir, { recursive: true });
    writeFileSync(join(this.options.outDir, 'report.html'), renderHtml(model));
    writeFileSync(join(this.options.outDir, 'testreport.json'), `${JSON.stringify(toTestReport(model), null, 2)}\n`);
    const t = model.totals;
    this.options.log?.(
      `conformance: ${t.total} tests: ${t.passed} passed, ${t.deviation} recorded deviations, ${t.failed} failed, ${t.skipped} skipped` +
        ` — reports in ${this.options.outDir} (report.html, testreport.json, junit.xml)`,
    );
  }
}
