import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../../..');
export const OPERATIONS_DOC = join(REPO, 'docs/operations.md');

/**
 * The fenced blocks of docs/operations.md tagged `sh <tag>`: `sh ops` are the commands the smoke test
 * runs as written; other tags are read by a test of their own (e.g. `sh rotate-key`).
 */
export function taggedCommands(markdown: string, tag = 'ops'): { line: number; script: string }[] {
  const blocks: { line: number; script: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== `\`\`\`sh ${tag}`) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]?.trim() !== '```') end++;
    if (end === lines.length) throw new Error(`docs/operations.md line ${start}: a block that does not close`);
    blocks.push({ line: start, script: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** The doc's project name and compose file, as a run of its own names them. */
export function onProject(script: string, project: string, composeFile: string): string {
  return script
    .replaceAll('infra/topology/compose.yaml', composeFile)
    .replaceAll('imaging-connect_', `${project}_`)
    .replaceAll('-p imaging-connect ', `-p ${project} `);
}

/** Where and how a run of the doc's commands happens: the run's own project, compose file and directory. */
export type CommandTarget = {
  project: string;
  composeFile: string;
  /** The directory the commands run in (where the backup's `backups/` goes). */
  cwd: string;
  run: (command: string, args: string[], options: { cwd: string }) => { ok: boolean; out: string };
};

/** Runs one block as written, on the target's project; a throw names the block's line in the doc. */
export function runBlock(block: { line: number; script: string }, target: CommandTarget): void {
  try {
    target.run('sh', ['-euc', onProject(block.script, target.project, target.composeFile)], { cwd: target.cwd });
  } catch (err) {
    throw new Error(`docs/operations.md line ${block.line}: ${(err as Error).message}`);
  }
}

/** Runs every `sh ops` block, in order, against a running topology; the number run. */
export function operationsCommands(target: CommandTarget): number {
  const blocks = taggedCommands(readFileSync(OPERATIONS_DOC, 'utf8'));
  if (blocks.length === 0) throw new Error('docs/operations.md has no `sh ops` block');
  for (const block of blocks) runBlock(block, target);
  return blocks.length;
}

/**
 * The real restore's three `sh restore` blocks, in the doc's order: stop everything and start only
 * PostgreSQL; replace the database with the backup; start the rest. The smoke test checks the
 * database between them.
 */
export function restoreSteps(markdown = readFileSync(OPERATIONS_DOC, 'utf8')) {
  const blocks = taggedCommands(markdown, 'restore');
  const [stop, restore, start] = blocks;
  if (blocks.length !== 3 || !stop || !restore || !start)
    throw new Error(`docs/operations.md has ${blocks.length} \`sh restore\` blocks, not 3 (stop, restore, start)`);
  return { stop, restore, start };
}
