import type { FhirStore } from './port.ts';
import { HttpStore } from './http/http-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';

/**
 * Opens the store a service is configured with: an `http(s)://` FHIR base (HAPI in production) gets
 * the HTTP adapter, anything else is a file path for the embedded store.
 */
export function openStore(location: string): FhirStore {
  if (/^https?:\/\//.test(location)) return new HttpStore({ baseUrl: location });
  return new SqliteStore({ path: location });
}
