import type { Communication } from '@medplum/fhirtypes';
import { SYSTEMS } from '@imaging/fhir';
import type { Clock, FhirStore, Logger } from '@imaging/fhir';
import { storedPatientOf } from '../domain/patients.ts';
import type { NotificationPort } from '../domain/ports.ts';

const PARTICIPATION_MODE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationMode';

/**
 * The development stand-in for NHS Notify, which sends SMS, email and letters to patients in production:
 * it records what it would send as a Communication to the Patient (by SMS when the patient has a mobile
 * number, else by letter) and logs it. The message names no finding: it asks the patient to contact the
 * clinician who requested the test, as a safety net if the result was lost (HSIB 2019).
 */
export function devNotifications(deps: { store: FhirStore; logger: Logger; clock: Clock }): NotificationPort {
  return {
    async notifyPatient(notification) {
      const patient = await storedPatientOf(deps.store, notification.patient);
      const mobile = patient?.telecom?.find((t) => t.system === 'sms' || (t.system === 'phone' && t.use === 'mobile'));
      const medium = mobile
        ? { coding: [{ system: PARTICIPATION_MODE, code: 'ELECTRONIC', display: 'electronic data' }], text: 'SMS' }
        : { coding: [{ system: PARTICIPATION_MODE, code: 'MAILWRIT', display: 'mail' }], text: 'Letter' };
      const identifier = { system: SYSTEMS.communication, value: notification.key };
      const communication: Communication = {
        resourceType: 'Communication',
        identifier: [identifier],
        basedOn: [notification.alert],
        status: 'completed',
        category: [{ text: 'Patient notification of an unacknowledged result' }],
        medium: [medium],
        subject: notification.patient,
        about: [notification.report],
        recipient: [notification.patient],
        sent: deps.clock.now().toISOString(),
        payload: [
          {
            contentString:
              'You recently had an imaging test. Please contact the clinician who requested it, or your GP practice, to discuss the result.',
          },
        ],
      };
      const { resource } = await deps.store.create(communication, {
        ifNoneExist: `identifier=${encodeURIComponent(`${identifier.system}|${identifier.value}`)}`,
      });
      deps.logger.info('patient notified (development: recorded as a Communication, not sent)', {
        communication: `Communication/${resource.id}`,
        medium: medium.text,
        alert: notification.alert.reference,
        correlationId: notification.correlationId,
      });
      return { reference: `Communication/${resource.id}` };
    },
  };
}
