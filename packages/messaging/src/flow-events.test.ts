import { describe, expect, it } from 'vitest';
import { briefDeliveryProgress, flowLabelOf } from './flow-events.ts';

describe('flow events', () => {
  it('name what a message is in a word the audience knows', () => {
    expect(
      [
        'servicerequest-request',
        'task-update',
        'diagnosticreport-issued',
        'pointer-registered',
        'alert-acknowledged',
        'x',
        undefined,
      ].map(flowLabelOf),
    ).toEqual(['order', 'status', 'report', 'pointer', 'alert', 'message', 'message']);
  });

  it('say why a delivery waits in brief: the attempt, the status and the network cause, not the next attempt time', () => {
    expect(
      briefDeliveryProgress(
        'attempt 2 failed: 503 imaging-midlands could not be reached (POST http://127.0.0.1:4102/fhir/$process-message failed: ECONNREFUSED); next attempt at 2026-11-23T09:00:02.000Z',
      ),
    ).toBe('attempt 2 failed: 503 (ECONNREFUSED)');
    expect(briefDeliveryProgress('attempt 1 failed: 502 imaging-midlands failed (500)')).toBe('attempt 1 failed: 502');
    expect(briefDeliveryProgress('refused: 422 No Task T-1 here')).toBe('refused: 422 No Task T-1 here');
    expect(briefDeliveryProgress('delivered')).toBe('delivered');
  });
});
