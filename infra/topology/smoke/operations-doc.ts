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

/** Runs every tagged block, in order, against a running topology; the number run. */
export async function operationsCommands(options: {
  project: string;
  composeFile: string;
  run: (command: string, args: string[]) => { ok: boolean; out: string };
  log: string;
}): Promise<number> {
  const blocks = taggedCommands(readFileSync(OPERATIONS_DOC, 'utf8'));
  if (blocks.length === 0) throw new Error('docs/operations.md has no `sh ops` block');
  for (const block of blocks) {
    try {
      options.run('sh', ['-euc', onProject(block.script, options.project, options.composeFile)]);
    } catch (err) {
      throw new Error(`docs/operations.md line ${block.line}: ${(err as Error).message}`);
    }
  }
  return blocks.length;
}
