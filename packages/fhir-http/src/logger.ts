/** Structured logs: one JSON object per line, so a log line can be filtered by correlation id. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export function jsonLogger(
  service: string,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Logger {
  const log =
    (level: string) =>
    (message: string, fields: LogFields = {}) =>
      write(JSON.stringify({ time: new Date().toISOString(), level, service, message, ...fields }));
  return { info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** Keeps log entries in memory, for tests that check what was logged. */
export function memoryLogger(): Logger & { entries: (LogFields & { level: string; message: string })[] } {
  const entries: (LogFields & { level: string; message: string })[] = [];
  const log =
    (level: string) =>
    (message: string, fields: LogFields = {}) =>
      entries.push({ level, message, ...fields });
  return { entries, info: log('info'), warn: log('warn'), error: log('error') };
}
