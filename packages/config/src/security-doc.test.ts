import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// docs/security.md names, for each control, the tests that keep it: a link to the test file, a colon, and the
// tests' names in curly quotes. This keeps the page honest: every link must lead to a file, and every name
// cited after a link must still be in that file.

const WORKSPACE_ROOT = resolve(import.meta.dirname, '../../..');

/** Every `](../path)` link of a page in docs/, and every name cited after a link: `[…](../path): “a”, “b”`. */
function citations(markdown: string): { links: string[]; names: { file: string; name: string }[] } {
  const text = markdown.replace(/\s+/g, ' ');
  const links = [...text.matchAll(/\]\(\.\.\/([^)#\s]+)\)/g)].map((m) => m[1] as string);
  const names = [...text.matchAll(/\]\(\.\.\/([^)#\s]+)\):((?: ?“[^”]+”,?)+)/g)].flatMap(([, file, quoted]) =>
    [...(quoted as string).matchAll(/“([^”]+)”/g)].map((m) => ({ file: file as string, name: m[1] as string })),
  );
  return { links, names };
}

/** What is wrong with a page's citations, relative to `root`: missing files, and names not in their file. */
function citationProblems(markdown: string, root: string): string[] {
  const { links, names } = citations(markdown);
  const problems = [...new Set(links)].filter((l) => !existsSync(join(root, l))).map((l) => `no file ${l}`);
  for (const { file, name } of names) {
    const path = join(root, file);
    if (!existsSync(path)) continue;
    const source = readFileSync(path, 'utf8').replaceAll("\\'", "'").replaceAll('\\"', '"');
    if (!source.includes(name)) problems.push(`${file} has no test “${name}”`);
  }
  return problems;
}

describe('docs/security.md', () => {
  const page = readFileSync(join(WORKSPACE_ROOT, 'docs/security.md'), 'utf8');

  it('finds a missing file and a name no longer in its file', () => {
    const page = [
      'See [`packages/config/src/topology.ts`](../packages/config/src/topology.ts): “devTopology”, “no such',
      '  test”; and [`gone.test.ts`](../gone.test.ts).',
    ].join('\n');
    expect(citationProblems(page, WORKSPACE_ROOT)).toEqual([
      'no file gone.test.ts',
      'packages/config/src/topology.ts has no test “no such test”',
    ]);
  });

  it('links only to files that exist, and every test it cites is still in its file', () => {
    const { names } = citations(page);
    // Enough to be sure the citations were read at all: each boundary cites several.
    expect(names.length).toBeGreaterThan(80);
    expect(citationProblems(page, WORKSPACE_ROOT)).toEqual([]);
  });

  it('cites tests for each trust boundary', () => {
    const sections = page.split(/^## /m).slice(1);
    const boundaries = sections.filter((s) => /^\d\. /.test(s));
    expect(boundaries.map((s) => s.split('\n')[0])).toEqual([
      '1. Client → regional gateway',
      '2. Regional gateway → hub',
      '3. Hub → regional gateway',
      '4. Page links',
      '5. The token service and the dev keys',
    ]);
    for (const section of boundaries)
      expect(citations(section).names.length, section.split('\n')[0]).toBeGreaterThan(5);
  });
});
