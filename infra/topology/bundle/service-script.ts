/**
 * Turns the ES module rolldown writes for a service into the script the loader compiles with a code
 * cache (service-loader.ts): `vm.Script` takes scripts, not modules. Pure text work on rolldown's own
 * output, whose only import statements are those of Node's modules at the top; anything else fails the
 * build rather than being guessed at.
 */

/** The name the script's function takes `import.meta` by (the bundler defines `import.meta.*` as its members). */
export const IMPORT_META_PARAMETER = '__serviceImportMeta';

/** The `import.meta` members the bundled code may use, each read from the loader's own. */
export const IMPORT_META_MEMBERS = ['url', 'dirname', 'filename', 'resolve', 'main'] as const;

const IMPORT_STATEMENT = /^import\b[^;]*;[ \t]*$/gm;
const NAMED_IMPORT = /^import\s*\{([^}]*)\}\s*from\s*"(node:[a-z0-9_/]+)";[ \t]*$/;
const NAMESPACE_IMPORT = /^import\s*\*\s*as\s+([\w$]+)\s+from\s*"(node:[a-z0-9_/]+)";[ \t]*$/;
const DEFAULT_IMPORT = /^import\s+([\w$]+)\s+from\s*"(node:[a-z0-9_/]+)";[ \t]*$/;

/**
 * Each `import … from "node:x"` made a `process.getBuiltinModule("node:x")`. The module is the same
 * object; what is skipped is the ES module facade Node builds around it, which reads every export, and
 * so loads what a module only loads on first use (`node:http` loads undici for its `WebSocket`, `node:fs`
 * its streams).
 */
export function builtinImportsToGetBuiltinModule(code: string): string {
  return code.replace(IMPORT_STATEMENT, (statement) => {
    const named = NAMED_IMPORT.exec(statement);
    if (named) {
      const bindings = (named[1] as string)
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean)
        .map((b) => {
          const [imported, local] = b.split(/\s+as\s+/);
          if (imported === 'default') return `default: ${local}`;
          return local ? `${imported}: ${local}` : (imported as string);
        });
      return `const { ${bindings.join(', ')} } = process.getBuiltinModule(${JSON.stringify(named[2])});`;
    }
    const whole = NAMESPACE_IMPORT.exec(statement) ?? DEFAULT_IMPORT.exec(statement);
    if (whole) return `const ${whole[1]} = process.getBuiltinModule(${JSON.stringify(whole[2])});`;
    throw new Error(`service-script: cannot make a script of this import: ${statement}`);
  });
}

/**
 * The service's module as a script whose value is an async function of `import.meta` (so top-level
 * `await` still works). Strict, as the module was.
 */
export function serviceScript(moduleCode: string): string {
  // The one import.meta rolldown writes itself, after `define` has run: its `require` for CommonJS code.
  const body = builtinImportsToGetBuiltinModule(moduleCode)
    .replaceAll('createRequire(import.meta.url)', `createRequire(${IMPORT_META_PARAMETER}.url)`)
    // What rolldown writes to keep an entry without exports a module.
    .replace(/^export \{\s*\};[ \t]*$/m, '');
  if (/^export\b/m.test(body)) throw new Error('service-script: a service entry exports nothing');
  if (/\bimport\.meta\b/.test(body))
    throw new Error('service-script: the bundle still reads import.meta (it should be defined by the bundler)');
  return `(async function (${IMPORT_META_PARAMETER}) {"use strict";\n${body}\n})`;
}

/** Rolldown's `transform.define`: each `import.meta.<member>` read from the script function's parameter. */
export function importMetaDefines(): Record<string, string> {
  return Object.fromEntries(IMPORT_META_MEMBERS.map((m) => [`import.meta.${m}`, `${IMPORT_META_PARAMETER}.${m}`]));
}
