import type { LogFields, Logger } from '@imaging/fhir';
import { pino } from 'pino';

/**
 * The services' logger: pino behind the Logger port, one JSON object per line on stdout
 * (`{time, level, service, message, ...fields}`), so a line can be filtered by correlation id.
 * Bearer tokens and secrets that slip into fields are redacted rather than written.
 */
export function jsonLogger(service: string, destination: pino.DestinationStream = pino.destination(1)): Logger {
  const log = pino(
    {
      base: { service },
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED, censor: '[redacted]' },
    },
    destination,
  );
  return {
    info: (message: string, fields: LogFields = {}) => log.info(fields, message),
    warn: (message: string, fields: LogFields = {}) => log.warn(fields, message),
    error: (message: string, fields: LogFields = {}) => log.error(fields, message),
  };
}

const REDACTED = ['authorization', 'Authorization', 'token', 'password', 'secret', '*.authorization', '*.password'];
