import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './report.ts';

/**
 * Another version of the services to measure beside this one, in the same run (the machine is shared,
 * so only figures taken side by side compare): the tree of `ref`, unpacked with `git archive` into the
 * temp dir (no worktree, nothing changed in the repository), its workspace installed from the local
 * pnpm store. Made once per commit and reused.
 */
export function prepareBaseline(ref: string): { root: string; commit: string } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  const commit = git('rev-parse', '--verify', `${ref}^{commit}`);
  const root = join(tmpdir(), `imaging-bench-baseline-${commit.slice(0, 12)}`);
  if (!existsSync(join(root, 'node_modules', '.modules.yaml'))) {
    mkdirSync(root, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${commit} | tar -x -C '${root}'`], { cwd: REPO_ROOT });
    execFileSync('pnpm', ['install', '--offline', '--frozen-lockfile', '--ignore-scripts'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  return { root, commit };
}
