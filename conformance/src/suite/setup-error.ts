/**
 * A global set-up that fails ends the run before any test, and vitest hands reporters no error for it.
 * The set-up leaves its error here (the reporter runs in the same process), so the reports say why.
 */
const KEY = Symbol.for('imaging-connect.conformance.setup-error');

export function recordSetupError(err: unknown): void {
  (globalThis as Record<symbol, unknown>)[KEY] = err instanceof Error ? err.message : String(err);
}

export function takeSetupError(): string | undefined {
  const holder = globalThis as Record<symbol, unknown>;
  const message = holder[KEY] as string | undefined;
  delete holder[KEY];
  return message;
}
