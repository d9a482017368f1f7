import type { Extension, Identifier, Patient } from '@medplum/fhirtypes';

/** One of a patient's `generalPractitioner` entries. */
type Practice = NonNullable<Patient['generalPractitioner']>[number];
import { EXTENSIONS, ODS_SYSTEM, odsOf } from '@imaging/fhir';

/**
 * A patient's registered GP practice, as each registrant names it. Results of a discharged patient are
 * copied to that practice (requirement 14), so who named it matters: one Patient is shared by every
 * organisation that registers it, and the first registrant's word must not decide where another
 * organisation's results go. Each `generalPractitioner` entry says who named it (`gp-named-by`, from the
 * registrant's token, never from a body or a message), and an alert copy goes to the practice the order's
 * requester named.
 */

/** A new patient as `organisation` registers it: the practice it names marked as named by it. */
export function registeredBy(patient: Patient, organisation: string): Patient {
  if (!patient.generalPractitioner?.length) return patient;
  return { ...patient, generalPractitioner: namedBy(patient.generalPractitioner, organisation) };
}

/** The practice entries `organisation` names in its registration, each marked as named by it. */
function namedBy(practices: readonly Practice[], organisation: string): Practice[] {
  const by: Extension = { url: EXTENSIONS.gpNamedBy, valueIdentifier: { system: ODS_SYSTEM, value: organisation } };
  return practices.map((practice) => ({ ...withoutNamer(practice), extension: [by] }));
}

/**
 * The stored patient with `organisation`'s named practice as its registration says: replaced when it names
 * one (a patient who moved practice), kept when it names none. Others' entries are left as they are.
 */
export function withPracticeNamedBy(existing: Patient, incoming: Patient, organisation: string): Patient {
  if (!incoming.generalPractitioner?.length) return existing;
  const others = (existing.generalPractitioner ?? []).filter((p) => namerOf(p) !== organisation);
  const generalPractitioner = [...others, ...namedBy(incoming.generalPractitioner, organisation)];
  const same = JSON.stringify(generalPractitioner) === JSON.stringify(existing.generalPractitioner ?? []);
  return same ? existing : { ...existing, generalPractitioner };
}

/** A patient carried in from another region: its practices are kept, but no organisation here named them. */
export function withoutNamers(patient: Patient): Patient {
  if (!patient.generalPractitioner?.length) return patient;
  return { ...patient, generalPractitioner: patient.generalPractitioner.map(withoutNamer) };
}

/** The GP practice (ODS) `requester` named for this patient, if it named one. */
export function practiceNamedBy(patient: Patient, requester: string): string | undefined {
  const named = (patient.generalPractitioner ?? []).filter((p) => namerOf(p) === requester);
  return named.map(odsOf).find((ods) => !!ods);
}

function namerOf(practice: Practice): string | undefined {
  const identifier: Identifier | undefined = practice.extension?.find(
    (e) => e.url === EXTENSIONS.gpNamedBy,
  )?.valueIdentifier;
  return identifier?.system === ODS_SYSTEM ? identifier.value : undefined;
}

function withoutNamer(practice: Practice): Practice {
  const extension = practice.extension?.filter((e) => e.url !== EXTENSIONS.gpNamedBy);
  const { extension: _, ...rest } = practice;
  return extension?.length ? { ...rest, extension } : rest;
}
