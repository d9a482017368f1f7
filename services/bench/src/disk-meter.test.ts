import { describe, expect, it } from 'vitest';
import { diskWaitsBetween, fullStallTotal, vmstatCounter } from './disk-meter.ts';

describe('the disk meter', () => {
  it('reads the "full" stall total of a pressure file, not the "some" one', () => {
    const pressure = [
      'some avg10=18.71 avg60=17.51 avg300=13.35 total=94741388',
      'full avg10=15.45 avg60=14.32 avg300=10.75 total=75719456',
    ].join('\n');
    expect(fullStallTotal(pressure)).toBe(75_719_456);
    expect(fullStallTotal('some avg10=0.00 avg60=0.00 avg300=0.00 total=12')).toBeUndefined();
  });

  it('reads one vmstat counter by its whole name', () => {
    const vmstat = ['pgpgin_extra 7', 'pgpgin 9334009', 'pgpgout 1944928'].join('\n');
    expect(vmstatCounter(vmstat, 'pgpgin')).toBe(9_334_009);
    expect(vmstatCounter(vmstat, 'pgpgoutx')).toBeUndefined();
  });

  it('gives the stalled share of the wall time and the KiB read per order between two readings', () => {
    const waits = diskWaitsBetween(
      { stalledUs: 1_000_000, readKib: 500 },
      { stalledUs: 16_000_000, readKib: 20_500 },
      100,
      1000,
    );
    expect(waits).toEqual({ ioStalled: 0.15, readKibPerOrder: 20 });
  });

  it('gives nothing without both readings, a duration and orders', () => {
    const reading = { stalledUs: 0, readKib: 0 };
    expect(diskWaitsBetween(undefined, reading, 10, 10)).toBeUndefined();
    expect(diskWaitsBetween(reading, undefined, 10, 10)).toBeUndefined();
    expect(diskWaitsBetween(reading, reading, 0, 10)).toBeUndefined();
    expect(diskWaitsBetween(reading, reading, 10, 0)).toBeUndefined();
  });
});
