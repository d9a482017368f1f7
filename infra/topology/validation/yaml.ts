import { parseAllDocuments } from 'yaml';

/**
 * Parses every document of a YAML stream the way kubectl and the compose tools read it: YAML 1.1
 * (so `0440` is octal and merge keys `<<` work), duplicate keys refused. Throws on any error.
 */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  const parsed = parseAllDocuments(text, { version: '1.1', merge: true, uniqueKeys: true, prettyErrors: true });
  const errors = parsed.flatMap((d) => [...d.errors, ...d.warnings]).map((e) => e.message);
  // An empty stream carries its own errors.
  if ('empty' in parsed) errors.push(...parsed.errors.map((e) => e.message));
  if (errors.length) throw new Error(`${source}: YAML problems:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
  return parsed
    .map((d) => d.toJS({ maxAliasCount: 100 }) as unknown)
    .filter((doc) => doc !== null && doc !== undefined);
}

export function parseYaml(text: string, source: string): unknown {
  const docs = parseYamlDocuments(text, source);
  if (docs.length !== 1) throw new Error(`${source}: expected one YAML document, found ${docs.length}`);
  return docs[0];
}
