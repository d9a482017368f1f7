import { describe, expect, it } from 'vitest';
import { SNOMED_SYSTEM } from '../systems.ts';
import {
  IMAGING_PROCEDURE_CODES,
  IMAGING_PROCEDURES,
  imagingProcedure,
  isKnownImagingProcedure,
  NICIP_SYSTEM,
  procedureCodings,
} from './imaging-procedures.ts';

// NICIP short codes: up to 6 upper-case letters, the first giving the modality (DOMAIN.md §5).
const NICIP_MODALITY_LETTER = { CT: 'C', MR: 'M', US: 'U', DX: 'X' } as const;

describe('imaging procedures (demo subset)', () => {
  it('lists each SNOMED CT concept once, as a concept id, with its source', () => {
    expect(new Set(IMAGING_PROCEDURES.map((p) => p.snomed)).size).toBe(IMAGING_PROCEDURES.length);
    for (const p of IMAGING_PROCEDURES) {
      expect(p.snomed).toMatch(/^[1-9]\d{5,17}$/);
      expect(p.display).not.toBe('');
      expect(p.source).not.toBe('');
    }
  });

  it('NICIP codes are well formed and agree with the modality', () => {
    for (const p of IMAGING_PROCEDURES.filter((p) => p.nicip)) {
      expect(p.nicip?.code).toMatch(/^[A-Z]{1,6}$/);
      expect(p.nicip?.code.charAt(0)).toBe(NICIP_MODALITY_LETTER[p.modality]);
    }
  });

  it('names every listed code', () => {
    expect(Object.values(IMAGING_PROCEDURE_CODES).sort()).toEqual(IMAGING_PROCEDURES.map((p) => p.snomed).sort());
  });

  it('looks procedures up by SNOMED CT code', () => {
    expect(imagingProcedure('169069000')?.modality).toBe('CT');
    expect(imagingProcedure('22298006')).toBeUndefined();
    expect(imagingProcedure(undefined)).toBeUndefined();
    expect(isKnownImagingProcedure({ system: SNOMED_SYSTEM, code: '169069000' })).toBe(true);
    expect(isKnownImagingProcedure({ system: 'http://loinc.org', code: '169069000' })).toBe(false);
  });

  it('gives SNOMED CT then NICIP codings', () => {
    expect(procedureCodings('431623007')).toEqual([
      { system: SNOMED_SYSTEM, code: '431623007', display: 'Ultrasonography of cervical spine' },
      { system: NICIP_SYSTEM, code: 'UCSPN', display: 'US Spine cervical' },
    ]);
    expect(procedureCodings('169069000')).toHaveLength(1);
    expect(() => procedureCodings('1')).toThrow(/Not a known imaging procedure/);
  });
});
