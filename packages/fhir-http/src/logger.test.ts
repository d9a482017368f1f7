import { describe, expect, it } from 'vitest';
import { jsonLogger } from './logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(JSON.parse(line)) } };
}

describe('jsonLogger', () => {
  it('writes one JSON object per line with time, level, service, message and the fields', () => {
    const { lines, stream } = capture();
    const logger = jsonLogger('gateway-north', stream);
    logger.info('delivery pass', { delivered: 2, correlationId: 'c-1' });
    logger.warn('slow', {});
    logger.error('failed');
    expect(lines.map((l) => [l.level, l.service, l.message])).toEqual([
      ['info', 'gateway-north', 'delivery pass'],
      ['warn', 'gateway-north', 'slow'],
      ['error', 'gateway-north', 'failed'],
    ]);
    expect(lines[0]).toMatchObject({ delivered: 2, correlationId: 'c-1' });
    expect(Date.parse(String(lines[0]?.time))).not.toBeNaN();
  });

  it('redacts credentials that reach a log line', () => {
    const { lines, stream } = capture();
    jsonLogger('hub', stream).warn('refused', { authorization: 'Bearer abc', headers: { password: 'pw' } });
    expect(JSON.stringify(lines)).not.toMatch(/Bearer abc|"pw"/);
    expect(lines[0]).toMatchObject({ authorization: '[redacted]', headers: { password: '[redacted]' } });
  });
});
