import { describe, expect, it } from 'vitest';
import { validateComposeDocument } from './compose-schema.ts';

const compose = () => ({
  services: {
    hub: {
      image: 'localhost/imaging-connect/services:0.1.0',
      ports: ['127.0.0.1:4000:4000'],
      environment: { PORT: '4000' },
      healthcheck: { test: ['CMD', 'true'], interval: '10s', start_period: '1m30s' },
      depends_on: { hapi: { condition: 'service_healthy' } },
    },
    hapi: { image: 'localhost/imaging-connect/hapi-fhir:8.8.0-3', expose: ['8080'] },
  },
  volumes: { data: {} },
  'x-anything': { ok: true },
});

describe('validateComposeDocument', () => {
  it('accepts a valid compose document, with extension fields', () => {
    expect(validateComposeDocument(compose())).toEqual([]);
  });

  it('refuses an unknown service key', () => {
    const c = compose();
    (c.services.hub as Record<string, unknown>).port = ['4000'];
    expect(validateComposeDocument(c)).toEqual([
      expect.stringMatching(/^\/services\/hub must NOT have additional properties.*"port"/),
    ]);
  });

  it('refuses a malformed port, duration and depends_on condition', () => {
    const c = compose();
    c.services.hub.ports = ['localhost:4000:4000'];
    c.services.hub.healthcheck.interval = 'ten seconds';
    c.services.hub.depends_on.hapi.condition = 'service_ready';
    const problems = validateComposeDocument(c).join('\n');
    expect(problems).toContain('/services/hub/ports/0 must match format "ports"');
    expect(problems).toContain('/services/hub/healthcheck/interval must match format "duration"');
    expect(problems).toContain('/services/hub/depends_on/hapi/condition must be equal to one of the allowed values');
  });

  it('refuses a top-level key that is neither a compose section nor an x- extension', () => {
    expect(validateComposeDocument({ ...compose(), service: {} })).toEqual([
      expect.stringContaining('must NOT have additional properties'),
    ]);
  });
});
