import { describe, expect, it } from 'vitest';
import { parseYaml, parseYamlDocuments } from './yaml.ts';

describe('parseYamlDocuments', () => {
  it('reads YAML as kubectl and the compose tools do: 1.1 octals and booleans, merge keys', () => {
    expect(parseYaml('base: &b {a: 1}\nmode: 0440\nflag: yes\nmerged:\n  <<: *b\n  c: 2\n', 't.yaml')).toEqual({
      base: { a: 1 },
      mode: 288,
      flag: true,
      merged: { a: 1, c: 2 },
    });
  });

  it('returns every document of a stream, skipping empty ones', () => {
    expect(parseYamlDocuments('a: 1\n---\n---\nb: 2\n', 't.yaml')).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('refuses duplicate keys and broken syntax, naming the file', () => {
    expect(() => parseYaml('a: 1\na: 2\n', 'dup.yaml')).toThrow(
      /^dup\.yaml: YAML problems:\n {2}- Map keys must be unique/,
    );
    expect(() => parseYaml('a: [1, 2\n', 'broken.yaml')).toThrow(/^broken\.yaml: YAML problems/);
    expect(() => parseYaml('a: 1\n---\nb: 2\n', 'two.yaml')).toThrow('two.yaml: expected one YAML document, found 2');
  });
});
