import { describe, expect, it } from 'vitest';
import { createTimeline, formatMs, short } from './timeline.ts';

function capture() {
  let now = 0;
  const lines: string[] = [];
  const timeline = createTimeline(
    (text) => lines.push(...text.split('\n').slice(0, -1)),
    () => now,
  );
  return {
    timeline,
    lines,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('timeline', () => {
  it('prints time, where, who, what and the hop in fixed columns', () => {
    const { timeline, lines, advance } = capture();
    advance(1234);
    timeline.event({ where: 'north → midlands', who: 'hub', what: 'order N81001-000124 routed', hopMs: 84 });
    timeline.event({ where: 'midlands', who: 'ris-rm1', what: 'accepts', hopMs: 12_345 });
    expect(lines[0]).toBe(
      `  +1.234s  ${'north → midlands'.padEnd(19)} ${'hub'.padEnd(16)} ${'order N81001-000124 routed'.padEnd(62)}    84 ms`,
    );
    // The hop column lines up whatever the text.
    expect(lines[1]?.length).toBe(lines[0]?.length);
    expect(lines[1]?.endsWith('  12.3 s')).toBe(true);
  });

  it('cuts what does not fit, with an ellipsis, and marks checks and failures', () => {
    const { timeline, lines } = capture();
    timeline.event({ where: 'a-region-with-a-very-long-name', who: 'someone', what: 'x'.repeat(200), hopMs: 1 });
    timeline.check('north', 'one Patient');
    timeline.event({ where: 'demo', who: 'demo', what: `it broke: ${'y'.repeat(150)}`, kind: 'fail' });
    expect(lines[0]).toContain('a-region-with-a-ve…');
    expect(lines[0]).toContain(`${'x'.repeat(61)}…`);
    expect(lines[1]).toMatch(/north {15}store {12}✓ one Patient$/);
    expect(lines[2]).toMatch(/✗ it broke: y{150}$/);
  });

  it('reports steps and their verdicts', () => {
    const { timeline, lines, advance } = capture();
    timeline.step(3, 15, 'The GP orders a CT');
    advance(2500);
    timeline.result(3, 15, false, 2500, 'no copy in the midlands');
    expect(lines).toContain('  +2.500s  step 3/15 FAILED in 2500 ms: no copy in the midlands');
    expect(lines.some((l) => l.startsWith('── step 3/15: The GP orders a CT ───'))).toBe(true);
  });

  it('formats durations and shortens ids', () => {
    expect(formatMs(84.4)).toBe('84 ms');
    expect(formatMs(15_160)).toBe('15.2 s');
    expect(short('9ce1c8d9-0e07-4a58-9010-023523383816')).toBe('9ce1c8d9…');
    expect(short('example')).toBe('example');
  });
});
