import type { Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, systemClock } from '@imaging/fhir';
import type { Clock, WithId } from '@imaging/fhir';

/**
 * The Patients this process has itself read or written, by NHS number: an order for a patient it knows
 * skips the search by NHS number (on HAPI, one round trip in two). It is a hint, never an authority: a
 * caller that decides anything from a remembered Patient must assert in its own write that the stored
 * Patient is still at the remembered version (a PUT with If-Match in the same transaction), and forget
 * the entry when that fails with 412. Another replica, or anyone else, may have changed the patient.
 */
export interface PatientCache {
  /** The remembered Patient with this NHS number (a copy), or undefined. */
  get(nhsNumber: string): WithId<Patient> | undefined;
  /** Remembers a stored Patient (with its versionId) under each of its NHS numbers. */
  remember(patient: WithId<Patient>): void;
  forget(nhsNumber: string): void;
  readonly size: number;
}

/** The default bound: a region's working set of patients with orders in flight, not its whole register. */
export const PATIENT_CACHE_CAPACITY = 4096;

/**
 * How long a remembered Patient is used, by default. The version assertion catches every change that
 * makes a new version; this bounds the one kind that does not: HAPI's `$meta-delete` (sent to HAPI
 * directly, never by a gateway) removes a label and keeps the version.
 */
export const PATIENT_CACHE_MAX_AGE_MS = 30_000;

export interface PatientCacheOptions {
  capacity?: number;
  maxAgeMs?: number;
  clock?: Clock;
}

/** A least-recently-used cache of at most `capacity` patients, each used for at most `maxAgeMs`. */
export function patientCache(options: PatientCacheOptions = {}): PatientCache {
  const capacity = options.capacity ?? PATIENT_CACHE_CAPACITY;
  const maxAgeMs = options.maxAgeMs ?? PATIENT_CACHE_MAX_AGE_MS;
  const clock = options.clock ?? systemClock;
  const entries = new Map<string, { patient: WithId<Patient>; until: number }>();
  return {
    get(nhsNumber) {
      const entry = entries.get(nhsNumber);
      if (!entry) return undefined;
      entries.delete(nhsNumber);
      if (entry.until <= clock.now().getTime()) return undefined;
      // Map keeps insertion order: moving a hit to the end makes the first key the least recently used.
      entries.set(nhsNumber, entry);
      return structuredClone(entry.patient);
    },
    remember(patient) {
      // Without a version there is nothing to assert, so nothing may be decided from it.
      if (!patient.meta?.versionId) return;
      const entry = { patient: structuredClone(patient), until: clock.now().getTime() + maxAgeMs };
      for (const nhsNumber of nhsNumbersOf(patient)) {
        entries.delete(nhsNumber);
        entries.set(nhsNumber, entry);
      }
      while (entries.size > capacity) {
        const oldest = entries.keys().next().value as string;
        entries.delete(oldest);
      }
    },
    forget(nhsNumber) {
      entries.delete(nhsNumber);
    },
    get size() {
      return entries.size;
    },
  };
}

export function nhsNumbersOf(patient: Patient): string[] {
  return (patient.identifier ?? []).flatMap((i) => (i.system === NHS_NUMBER_SYSTEM && i.value ? [i.value] : []));
}
