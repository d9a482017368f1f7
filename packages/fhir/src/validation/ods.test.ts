import { describe, expect, it } from 'vitest';
import { ODS_SYSTEM } from '../systems.ts';
import { isValidOdsCode, odsOf, odsReference } from './ods.ts';

describe('ODS codes', () => {
  it.each(['RN1', 'N81001', 'RM1', 'Y05868', 'RXX01', 'ABCDEFGHIJ'])('accepts %s', (code) => {
    expect(isValidOdsCode(code)).toBe(true);
  });

  it.each([
    ['too short', 'R1'],
    ['too long', 'ABCDEFGHIJK'],
    ['lower case', 'rn1'],
    ['a space', 'RN 1'],
    ['punctuation', 'RN-1'],
    ['empty', ''],
  ])('rejects %s: %s', (_, code) => {
    expect(isValidOdsCode(code)).toBe(false);
  });

  it('rejects non-strings', () => {
    expect(isValidOdsCode(123)).toBe(false);
    expect(isValidOdsCode(undefined)).toBe(false);
  });
});

describe('odsOf', () => {
  it('reads the ODS code of a reference', () => {
    expect(odsOf({ identifier: { system: ODS_SYSTEM, value: 'RN1' } })).toBe('RN1');
    expect(odsOf({ reference: 'Organization/1', identifier: { system: ODS_SYSTEM, value: 'RN1' } })).toBe('RN1');
  });

  it('is undefined for a reference without the ODS system', () => {
    expect(odsOf({ reference: 'Organization/1' })).toBeUndefined();
    expect(odsOf({ identifier: { system: 'https://example.org/orgs', value: 'RN1' } })).toBeUndefined();
    expect(odsOf({ identifier: { system: ODS_SYSTEM, value: '' } })).toBeUndefined();
    expect(odsOf(undefined)).toBeUndefined();
  });

  it('reads the ODS code of an Organization', () => {
    expect(
      odsOf({
        resourceType: 'Organization',
        identifier: [
          { system: 'x', value: 'y' },
          { system: ODS_SYSTEM, value: 'N81001' },
        ],
      }),
    ).toBe('N81001');
    expect(odsOf({ resourceType: 'Organization', name: 'No code' })).toBeUndefined();
  });

  it('round-trips odsReference', () => {
    const ref = odsReference('RM1', 'Midlands CDC');
    expect(ref).toEqual({
      type: 'Organization',
      identifier: { system: ODS_SYSTEM, value: 'RM1' },
      display: 'Midlands CDC',
    });
    expect(odsOf(ref)).toBe('RM1');
  });
});
