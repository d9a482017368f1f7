import type { Coding } from '@medplum/fhirtypes';
import { SNOMED_SYSTEM } from '../systems.ts';

/**
 * Imaging procedure codes: SNOMED CT concepts, with their NICIP short code where a source gave one.
 *
 * THIS IS A DEMO SUBSET. The national list is the DIDS refset 999001111000000105 (about the NICIP
 * mapping, see DOMAIN.md §5); loading that refset (from the NHS England terminology server or a TRUD
 * release, honouring the 183-day grace period for retired codes) is future work. Until then an order
 * for a procedure not listed here is rejected with `code-invalid`.
 *
 * Only codes confirmed in a public NHS or HL7 source are listed; each row names its source. Refset
 * membership itself was not checked for the rows without a NICIP code.
 */

export const DIDS_REFSET = '999001111000000105';

/** The NICIP code system URI, as used by NHS England's National Imaging Registry and NRL specifications. */
export const NICIP_SYSTEM = 'https://nicip.nhs.uk';

/** DICOM modality codes (http://dicom.nema.org/resources/ontology/DCM). */
export const DICOM_MODALITY_SYSTEM = 'http://dicom.nema.org/resources/ontology/DCM';
export type Modality = 'CT' | 'MR' | 'US' | 'DX';

export interface ImagingProcedure {
  /** SNOMED CT concept id. */
  snomed: string;
  display: string;
  modality: Modality;
  /** NICIP short code and description, where a source maps it (a NICIP code may carry laterality). */
  nicip?: { code: string; display: string };
  /** Where the code was confirmed. */
  source: string;
}

export const IMAGING_PROCEDURES: readonly ImagingProcedure[] = [
  {
    snomed: '169069000',
    display: 'Computed tomography of chest',
    modality: 'CT',
    source: 'HL7 UK Core example UKCore-ServiceRequest-CTChestScan-Example (NHSDigital/FHIR-R4-UKCORE-STAGING-MAIN)',
  },
  {
    snomed: '303653007',
    display: 'Computed tomography of head',
    modality: 'CT',
    source: 'HL7 FHIR ServiceRequest example (build.fhir.org servicerequest-example)',
  },
  {
    snomed: '431623007',
    display: 'Ultrasonography of cervical spine',
    modality: 'US',
    nicip: { code: 'UCSPN', display: 'US Spine cervical' },
    source: 'NHS England National Imaging Registry spec, input/examples/DiagnosticReport-radiology.json',
  },
  {
    snomed: '418062002',
    display: 'MRA upper limb artery',
    modality: 'MR',
    // The NICIP code is the right-sided variant of this (non-lateralised) SNOMED concept.
    nicip: { code: 'MAULR', display: 'MRA Upper limb Rt' },
    source: 'NHS England National Imaging Registry spec (DiagnosticReportRCR.fsh) and NRLF pointer types',
  },
  {
    snomed: '60027007',
    display: 'Radiography of wrist',
    // Radiography: DX (digital radiography) is our choice; a CR department would record CR.
    modality: 'DX',
    source: 'SNOMED International, NICIP editorial guidance (confluence.ihtsdotools.org pageId=123898367)',
  },
  {
    // The MRI of the suspected cauda equina syndrome pathway (DOMAIN.md §4: within 4 h of the request).
    snomed: '433141005',
    display: 'Magnetic resonance imaging of lumbar and sacral spine',
    modality: 'MR',
    source:
      'Belgian eHealth Platform eReferral ValueSet be-vs-diagnostic-imaging-procedure (SNOMED CT international concepts)',
  },
];

/** Named codes for the procedures above, so callers need not repeat digits. */
export const IMAGING_PROCEDURE_CODES = {
  ctChest: '169069000',
  ctHead: '303653007',
  usCervicalSpine: '431623007',
  mraUpperLimb: '418062002',
  xrWrist: '60027007',
  mriLumbosacralSpine: '433141005',
} as const;

const BY_CODE = new Map(IMAGING_PROCEDURES.map((p) => [p.snomed, p]));

export function imagingProcedure(snomedCode: string | undefined): ImagingProcedure | undefined {
  return snomedCode === undefined ? undefined : BY_CODE.get(snomedCode);
}

export function isKnownImagingProcedure(coding: Coding): boolean {
  return coding.system === SNOMED_SYSTEM && imagingProcedure(coding.code) !== undefined;
}

/** The codings for a procedure: SNOMED CT first, then NICIP where known. Throws for an unknown code (a bug). */
export function procedureCodings(snomedCode: string): Coding[] {
  const procedure = imagingProcedure(snomedCode);
  if (!procedure) throw new Error(`Not a known imaging procedure: ${snomedCode}`);
  const codings: Coding[] = [{ system: SNOMED_SYSTEM, code: procedure.snomed, display: procedure.display }];
  if (procedure.nicip)
    codings.push({ system: NICIP_SYSTEM, code: procedure.nicip.code, display: procedure.nicip.display });
  return codings;
}
