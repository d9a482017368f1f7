// An organisation's learning report from its region's gateway:
// `pnpm learning-report --org N81001 --quarter 2026-Q3 [--format json|csv|html] [--out file]`.
import { runLearningReportCommand } from './learning-report-command.ts';

process.exitCode = await runLearningReportCommand(process.argv.slice(2), {
  env: process.env,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
