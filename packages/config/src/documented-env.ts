import { isDeepStrictEqual } from 'node:util';
import type { z } from 'zod';

/** One variable of a README configuration table: its name, its documented default and meaning. */
export interface DocumentedVariable {
  name: string;
  /** As written: `` `4101` ``, `(required)`, or words for a default worked out at start-up. */
  default: string;
  meaning: string;
}

const REQUIRED = '(required)';

/**
 * The variables of the Markdown table whose first header cell is `header` (`gateway variable`). A row
 * naming several variables (`` `PORT`, `HOST` ``) gives one per name, each with its own default from the
 * comma-separated second cell; the meaning is shared.
 */
export function documentedVariables(markdown: string, header: string): DocumentedVariable[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => cellsOf(l)[0] === header);
  if (start < 0) throw new Error(`No table headed '${header}'`);
  const found: DocumentedVariable[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.trimStart().startsWith('|')) break;
    const [names = '', defaults = '', meaning = ''] = cellsOf(line);
    const nameList = [...names.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] as string);
    const defaultList = defaults.split(/,\s+/);
    if (defaultList.length !== nameList.length)
      throw new Error(`'${line.trim()}': ${nameList.length} variables but ${defaultList.length} defaults`);
    nameList.forEach((name, i) => {
      found.push({ name, default: (defaultList[i] as string).trim(), meaning });
    });
  }
  return found;
}

function cellsOf(line: string): string[] {
  if (!line.trimStart().startsWith('|')) return [];
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/**
 * What differs between an environment schema and its documentation: a variable on one side only, a
 * required one documented with a default (or the reverse), and a default the schema gives that the
 * table does not state, as a single literal the schema reads to the same value. A variable the schema
 * leaves unset (its default is worked out at start-up) may be documented in words.
 */
export function documentationProblems(schema: z.ZodObject, documented: DocumentedVariable[]): string[] {
  const problems: string[] = [];
  const shape = schema.shape as Record<string, z.ZodType>;
  const names = documented.map((d) => d.name);
  for (const name of Object.keys(shape)) if (!names.includes(name)) problems.push(`${name} is not documented`);
  for (const doc of documented) {
    const field = shape[doc.name];
    if (!field) {
      problems.push(`${doc.name} is documented but not read`);
      continue;
    }
    const unset = field.safeParse(undefined);
    if (!unset.success) {
      if (doc.default !== REQUIRED) problems.push(`${doc.name} is required, documented with default ${doc.default}`);
      continue;
    }
    if (doc.default === REQUIRED) {
      problems.push(`${doc.name} is documented as required, but has a default`);
      continue;
    }
    if (unset.data === undefined) continue;
    const literal = /^`([^`]*)`$/.exec(doc.default)?.[1];
    const given = literal === undefined ? undefined : field.safeParse(literal);
    if (!given?.success || !isDeepStrictEqual(given.data, unset.data))
      problems.push(`${doc.name} defaults to ${JSON.stringify(unset.data)}, documented as ${doc.default}`);
  }
  return problems;
}
