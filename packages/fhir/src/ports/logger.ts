/** Structured log fields: one JSON object per line, so a log line can be filtered by correlation id. */
export type LogFields = Record<string, unknown>;

/** What services and domain code log through; the JSON implementation lives in @imaging/fhir-http. */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

export type LogEntry = LogFields & { level: string; message: string };

/** Keeps log entries in memory, for tests that check what was logged. */
export function memoryLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const log =
    (level: string) =>
    (message: string, fields: LogFields = {}) => {
      entries.push({ level, message, ...fields });
    };
  return { entries, info: log('info'), warn: log('warn'), error: log('error') };
}
