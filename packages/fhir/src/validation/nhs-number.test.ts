import { describe, expect, it } from 'vitest';
import { NHS_NUMBER_SYSTEM } from '../systems.ts';
import {
  isValidNhsNumber,
  nhsNumberCheckDigit,
  nhsNumberOf,
  patientReferenceByNhsNumber,
  randomTestNhsNumber,
  testNhsNumber,
} from './nhs-number.ts';

// Check digits worked by hand: weights 10..2, check = 11 − (sum mod 11), 11 → 0, 10 → none.
// 943476591: 90+36+24+28+42+30+20+27+2 = 299; 299 mod 11 = 2; 11 − 2 = 9   (Wikipedia's worked example)
// 999000001: 90+81+72+2 = 245; 245 mod 11 = 3; 11 − 3 = 8
// 999000005: 90+81+72+10 = 253; 253 mod 11 = 0; 11 − 0 = 11 → 0
// 999000000: 90+81+72 = 243; 243 mod 11 = 1; 11 − 1 = 10 → no valid number
// 987654432: 90+72+56+42+30+20+16+9+4 = 339; 339 mod 11 = 9; 11 − 9 = 2 (the NHS *format* example 987 654 4321 is not a valid number)

describe('nhsNumberCheckDigit', () => {
  it.each([
    ['943476591', 9],
    ['999000001', 8],
    ['999000005', 0],
    ['987654432', 2],
  ])('%s → %i', (firstNine, check) => {
    expect(nhsNumberCheckDigit(firstNine)).toBe(check);
  });

  it('has no check digit when the result is 10', () => {
    expect(nhsNumberCheckDigit('999000000')).toBeUndefined();
    expect(nhsNumberCheckDigit('999000014')).toBeUndefined();
  });

  it('needs exactly nine digits', () => {
    expect(nhsNumberCheckDigit('99900000')).toBeUndefined();
    expect(nhsNumberCheckDigit('99900000a')).toBeUndefined();
  });
});

describe('isValidNhsNumber', () => {
  it.each(['9434765919', '9990000018', '9991000003'])('accepts %s', (value) => {
    expect(isValidNhsNumber(value)).toBe(true);
  });

  it('accepts a number whose check result of 11 becomes 0', () => {
    expect(isValidNhsNumber('9990000050')).toBe(true);
  });

  it.each([
    ['wrong check digit', '9434765918'],
    ['the NHS format example, which fails the checksum', '9876544321'],
    ['nine digits whose check result is 10, whatever the tenth digit', '9990000000'],
    ['…with any tenth digit', '9990000001'],
    ['check 11 written as 1 instead of 0', '9990000051'],
    ['nine digits', '943476591'],
    ['eleven digits', '94347659190'],
    ['spaces', '943 476 5919'],
    ['dashes', '943-476-5919'],
    ['a letter', '94347659X9'],
    ['empty', ''],
    ['leading/trailing space', ' 9434765919'],
  ])('rejects %s: %s', (_, value) => {
    expect(isValidNhsNumber(value)).toBe(false);
  });

  it('rejects non-strings', () => {
    expect(isValidNhsNumber(9434765919)).toBe(false);
    expect(isValidNhsNumber(undefined)).toBe(false);
    expect(isValidNhsNumber(null)).toBe(false);
  });

  it('every single-digit change of a valid number is caught', () => {
    const valid = '9434765919';
    for (let pos = 0; pos < 10; pos++) {
      for (let d = 0; d <= 9; d++) {
        if (String(d) === valid[pos]) continue;
        const changed = `${valid.slice(0, pos)}${d}${valid.slice(pos + 1)}`;
        expect(isValidNhsNumber(changed), changed).toBe(false);
      }
    }
  });
});

describe('test NHS numbers', () => {
  it('are the valid numbers of the 999 range, in order, skipping bodies with no check digit', () => {
    expect([0, 1, 2, 3, 4].map(testNhsNumber)).toEqual([
      '9990000018',
      '9990000026',
      '9990000034',
      '9990000042',
      '9990000050',
    ]);
  });

  it('are valid, in the 999 range and distinct', () => {
    const numbers = Array.from({ length: 300 }, (_, n) => testNhsNumber(n));
    expect(new Set(numbers).size).toBe(300);
    for (const n of numbers) {
      expect(n.startsWith('999')).toBe(true);
      expect(isValidNhsNumber(n)).toBe(true);
    }
  });

  it('refuses a negative or fractional index', () => {
    expect(() => testNhsNumber(-1)).toThrow(RangeError);
    expect(() => testNhsNumber(1.5)).toThrow(RangeError);
  });

  it('random ones follow the random source and skip bodies with no check digit', () => {
    // 999100000: 90+81+72+7 = 250; 250 mod 11 = 8; 11 − 8 = 3
    expect(randomTestNhsNumber(() => 0.1)).toBe('9991000003');
    const draws = [0, 0.1];
    expect(randomTestNhsNumber(() => draws.shift() as number)).toBe('9991000003');
    for (let i = 0; i < 50; i++) expect(isValidNhsNumber(randomTestNhsNumber())).toBe(true);
  });
});

describe('nhsNumberOf and patientReferenceByNhsNumber', () => {
  it('reads the NHS number of a Patient or a logical reference', () => {
    expect(
      nhsNumberOf({
        resourceType: 'Patient',
        identifier: [
          { system: 'x', value: '1' },
          { system: NHS_NUMBER_SYSTEM, value: '9434765919' },
        ],
      }),
    ).toBe('9434765919');
    expect(nhsNumberOf(patientReferenceByNhsNumber('9990000018'))).toBe('9990000018');
    expect(nhsNumberOf({ reference: 'Patient/1' })).toBeUndefined();
    expect(nhsNumberOf(undefined)).toBeUndefined();
  });

  it('builds a typed logical reference', () => {
    expect(patientReferenceByNhsNumber('9990000018', 'Alex')).toEqual({
      type: 'Patient',
      identifier: { system: NHS_NUMBER_SYSTEM, value: '9990000018' },
      display: 'Alex',
    });
  });
});
