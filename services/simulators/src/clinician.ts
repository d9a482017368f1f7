import type { DiagnosticReport, DocumentReference, ImagingStudy } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import type { CallOptions, FhirClient } from './fhir-client.ts';

export type PriorImaging = WithId<ImagingStudy> | WithId<DiagnosticReport>;

/**
 * A clinician's system in any region, looking for a patient's prior imaging: it asks the national
 * hub's imaging record locator what exists for an NHS number (pointers only), and retrieves a prior
 * through the hub, which fetches it from the region that holds it. Nothing is copied centrally.
 */
export interface Clinician {
  /** The locator's pointers for a patient, in every region. */
  findPriorImaging(nhsNumber: string, options?: CallOptions): Promise<WithId<DocumentReference>[]>;
  /** The study or report a pointer points to, fetched from its region through the hub. */
  retrievePrior(pointer: WithId<DocumentReference>, options?: CallOptions): Promise<PriorImaging>;
}

export function createClinician(hub: FhirClient): Clinician {
  return {
    findPriorImaging(nhsNumber, options) {
      return hub.search<DocumentReference>(
        'DocumentReference',
        { 'subject:identifier': `${NHS_NUMBER_SYSTEM}|${nhsNumber}` },
        options,
      );
    },
    retrievePrior(pointer, options) {
      return hub.get<PriorImaging>(`DocumentReference/${encodeURIComponent(pointer.id)}/$retrieve`, options);
    },
  };
}

/** Which kind of resource a locator pointer points to (`ImagingStudy` or `DiagnosticReport`). */
export function pointerKind(pointer: DocumentReference): string | undefined {
  return pointer.type?.coding?.[0]?.code;
}
