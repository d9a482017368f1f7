// Prints a dev client's access token: `pnpm -s token gp-n81001 [--scope "..."] [--hub URL]`.
import { runTokenCommand } from './token-command.ts';

process.exitCode = await runTokenCommand(process.argv.slice(2), {
  env: process.env,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
