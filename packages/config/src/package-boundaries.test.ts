import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// A package reaches another only through what that one exports (`@imaging/x`, `@imaging/x/testing`),
// declared in its package.json: never by a relative path into the other's files, which pnpm, the
// lockfile and the other package's owner cannot see.

const WORKSPACE_ROOT = resolve(import.meta.dirname, '../../..');

/** The workspace's package directories, from pnpm-workspace.yaml (entries `dir` or `dir/*`). */
function workspacePackages(root: string): string[] {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const list = /^packages:\s*\n((?:[ \t]+-.*\n?)+)/m.exec(yaml)?.[1] ?? '';
  const entries = [...list.matchAll(/^[ \t]+-[ \t]+['"]?([^'"\s#]+)/gm)].map((m) => m[1] as string);
  return entries.flatMap((entry) => {
    if (!entry.endsWith('/*')) return [join(root, entry)];
    const parent = join(root, entry.slice(0, -2));
    return readdirSync(parent, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(parent, d.name, 'package.json')))
      .map((d) => join(parent, d.name));
  });
}

function* typeScriptFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* typeScriptFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

/** `from '…'`, `import '…'`, `import('…')`: what a file imports or re-exports. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

/**
 * Every import that leaves its package by a relative path, and every workspace package imported without
 * being declared in the importer's package.json: `file: specifier (why)`, paths from the root.
 */
function boundaryViolations(root: string): string[] {
  const found: string[] = [];
  for (const pkg of workspacePackages(root)) {
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const declared = new Set([
      manifest.name,
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.devDependencies ?? {}),
    ]);
    for (const file of typeScriptFiles(pkg)) {
      // This file's own fixtures (below) hold the very imports it looks for.
      if (file === import.meta.filename) continue;
      for (const [, specifier = ''] of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
        const where = `${relative(root, file)}: ${specifier}`;
        if (specifier.startsWith('.')) {
          const target = relative(pkg, resolve(dirname(file), specifier));
          if (target === '..' || target.startsWith(`..${sep}`)) found.push(`${where} (outside ${relative(root, pkg)})`);
        } else if (specifier.startsWith('@imaging/')) {
          const name = specifier.split('/').slice(0, 2).join('/');
          if (!declared.has(name)) found.push(`${where} (${name} is not in ${relative(root, pkg)}/package.json)`);
        }
      }
    }
  }
  return found;
}

describe('package boundaries', () => {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });

  /** A workspace of two packages, `@imaging/a` (depending on nothing) and `@imaging/b`, with the given files. */
  function workspace(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), 'boundaries-'));
    made.push(root);
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    write('pnpm-workspace.yaml', "packages:\n  - packages/*\n  - 'tools'\n\nonlyBuiltDependencies:\n  - esbuild\n");
    write('packages/a/package.json', JSON.stringify({ name: '@imaging/a' }));
    write('packages/b/package.json', JSON.stringify({ name: '@imaging/b', devDependencies: { '@imaging/a': '*' } }));
    write('tools/package.json', JSON.stringify({ name: '@imaging/tools' }));
    for (const [path, text] of Object.entries(files)) write(path, text);
    return root;
  }

  it('finds relative imports into another package, and workspace packages used undeclared', () => {
    const root = workspace({
      'packages/a/src/x.ts': "export const x = 1;\nimport { y } from '../../b/src/y.ts';\n",
      'packages/a/src/deep/z.ts': "export * from '../x.ts';\nimport { b } from '@imaging/b/testing';\n",
      'packages/b/src/y.ts': "import { x } from '@imaging/a';\nexport const y = await import('../../a/src/x.ts');\n",
      'tools/run.ts': "import '../packages/a/src/x.ts';\nimport { a } from './lib/a.ts';\n",
    });
    expect(boundaryViolations(root).sort()).toEqual([
      'packages/a/src/deep/z.ts: @imaging/b/testing (@imaging/b is not in packages/a/package.json)',
      'packages/a/src/x.ts: ../../b/src/y.ts (outside packages/a)',
      'packages/b/src/y.ts: ../../a/src/x.ts (outside packages/b)',
      'tools/run.ts: ../packages/a/src/x.ts (outside tools)',
    ]);
  });

  it('are kept by every package of this workspace', () => {
    expect(workspacePackages(WORKSPACE_ROOT).map((p) => relative(WORKSPACE_ROOT, p))).toEqual(
      expect.arrayContaining(['packages/config', 'services/regional-gateway', 'conformance', 'infra/topology']),
    );
    expect(boundaryViolations(WORKSPACE_ROOT)).toEqual([]);
  });
});
