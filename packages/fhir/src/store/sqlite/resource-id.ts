import { randomFillSync } from 'node:crypto';

/**
 * The id of a new resource: a UUID of version 7 (RFC 9562), its first 48 bits the creation time in
 * milliseconds and the other 74 random. Ids made later sort after ids made earlier, so a new resource's
 * row in `resource (type, id)`, and the rows of references to it, go at the end of their indexes instead
 * of on a random page: once a file outgrows its page cache, a random key costs a page read, a page written
 * to the log and again at the checkpoint. The id is as opaque to clients as a random UUID; the time in it is
 * the one `meta.lastUpdated` already shows.
 */
export function newResourceId(now: number = Date.now()): string {
  const bytes = nextRandomBytes();
  // 48-bit big-endian milliseconds; 2^48 ms is the year 10889.
  const high = Math.floor(now / 2 ** 16);
  bytes[0] = high >>> 24;
  bytes[1] = (high >>> 16) & 0xff;
  bytes[2] = (high >>> 8) & 0xff;
  bytes[3] = high & 0xff;
  bytes[4] = (now >>> 8) & 0xff;
  bytes[5] = now & 0xff;
  bytes[6] = 0x70 | ((bytes[6] as number) & 0x0f); // version 7
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f); // variant 10
  return format(bytes);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function format(b: Uint8Array): string {
  const h = (i: number) => HEX[b[i] as number];
  return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
}

// Random bytes drawn 4 KB at a time, as crypto.randomUUID does, rather than a system call per id.
const POOL = new Uint8Array(4096);
let offset = POOL.length;

function nextRandomBytes(): Uint8Array {
  if (offset === POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const bytes = POOL.subarray(offset, offset + 16);
  offset += 16;
  return bytes;
}
