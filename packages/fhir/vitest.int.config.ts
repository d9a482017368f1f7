import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

// The store contract against a real FHIR server (FHIR_CONTRACT_BASE_URL), plus the adapter's real-socket
// tests. Not part of the unit project: run it with
//   FHIR_CONTRACT_BASE_URL=http://127.0.0.1:8080/fhir/conformance pnpm vitest run -c packages/fhir/vitest.int.config.ts
// or list this file as a project of the conformance suite.
export default defineProject({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    name: 'fhir-int',
    include: ['src/**/*.int.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
