import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pointerIds } from './pointer-ids.ts';

describe('pointer ids', () => {
  const ids = pointerIds('a secret');

  it('hands out an id that leads back to its store id, and is a FHIR id', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9.-]{1,39}$/), (storeId) => {
        const id = ids.outward(storeId);
        expect(id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
        expect(ids.inward(id)).toBe(storeId);
      }),
    );
  });

  it('knows no id it did not hand out: a store id, a changed tag, another store id under a tag, another secret', () => {
    const id = ids.outward('42');
    const tag = id.slice('42-'.length);
    for (const other of [
      '42',
      '43',
      `43-${tag}`,
      `42-${tag.slice(1)}`,
      `42-${tag}0`,
      `42-${tag.toUpperCase()}`,
      `-${tag}`,
    ]) {
      expect(ids.inward(other), other).toBeUndefined();
    }
    expect(pointerIds('another secret').inward(id)).toBeUndefined();
    // The same secret (another replica) knows it.
    expect(pointerIds('a secret').inward(id)).toBe('42');
  });

  it('refuses a store id too long to carry its tag within 64 characters', () => {
    expect(() => ids.outward('x'.repeat(40))).toThrow(/no room/);
  });
});
