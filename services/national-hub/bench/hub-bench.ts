// Measures the hub's own cost per call: routing a message to a region on a real localhost port, registering
// a pointer, and a patient search. Run: node services/national-hub/bench/hub-bench.ts [count]
import { CODE_SYSTEMS, NHS_NUMBER_SYSTEM, SYSTEMS, testNhsNumber } from '@imaging/fhir';
import { exampleFulfilmentTask } from '@imaging/fhir/examples';
import { buildMessage, MESSAGE_HEADERS, TASK_UPDATE } from '@imaging/messaging';
import { createTestHub, startFakeRegion, tempDataDir, topologyWith } from '../src/testing/index.ts';

const count = Number(process.argv[2] ?? 200);
const temp = tempDataDir();
const midlands = await startFakeRegion('imaging-midlands');
const hub = await createTestHub({ dataDir: temp.dir, topology: topologyWith({ midlands: midlands.url }) });
midlands.trust(hub);
const token = await hub.tokenFor('gateway-north');
const clinician = await hub.tokenFor('clinician-rs1');
const message = buildMessage({
  event: TASK_UPDATE,
  timestamp: '2026-11-23T09:00:00Z',
  sourceService: 'imaging-north',
  destinationService: 'imaging-midlands',
  focus: exampleFulfilmentTask({ status: 'accepted' }),
  resources: [],
  identifierOf: () => undefined,
});
const body = JSON.stringify(message);

async function measure(
  name: string,
  call: (i: number) => Promise<Response> | Response,
  expected: number,
): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const res = await call(i);
    await res.arrayBuffer();
    times.push(performance.now() - started);
    if (res.status !== expected) throw new Error(`${name}: ${res.status}`);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => (times[Math.min(times.length - 1, Math.floor(q * times.length))] as number).toFixed(1);
  const total = times.reduce((a, b) => a + b, 0);
  console.log(
    `${name.padEnd(28)} n=${count}  p50 ${at(0.5)} ms  p95 ${at(0.95)} ms  ${(count / (total / 1000)).toFixed(0)}/s`,
  );
}

await measure(
  'route message',
  (i) =>
    hub.app.request('/fhir/$process-message', {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/fhir+json',
        [MESSAGE_HEADERS.target]: 'imaging-midlands',
        [MESSAGE_HEADERS.requestId]: `bench-${i}`,
        [MESSAGE_HEADERS.correlationId]: 'bench-case',
      },
      body,
    }),
  200,
);

await measure(
  'register pointer',
  (i) => {
    const url = `http://127.0.0.1:4101/fhir/ImagingStudy/bench-${i}`;
    return hub.app.request('/fhir/DocumentReference', {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'DocumentReference',
        masterIdentifier: { system: SYSTEMS.pointerSource, value: url },
        status: 'current',
        type: { coding: [{ system: CODE_SYSTEMS.pointerKind, code: 'ImagingStudy' }] },
        subject: { type: 'Patient', identifier: { system: NHS_NUMBER_SYSTEM, value: testNhsNumber(i % 50) } },
        custodian: { identifier: { system: SYSTEMS.region, value: 'north' } },
        content: [{ attachment: { url } }],
      }),
    });
  },
  201,
);

await measure(
  'search pointers (1 patient)',
  (i) =>
    hub.app.request(
      `/fhir/DocumentReference?subject:identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${testNhsNumber(i % 50)}`)}`,
      {
        headers: { Authorization: `Bearer ${clinician}` },
      },
    ),
  200,
);

await midlands.close();
temp.remove();
