import { randomUUID } from 'node:crypto';

/**
 * The id of a new resource: a UUID of version 7 (RFC 9562), its first 48 bits the creation time in
 * milliseconds and the other 74 random. Ids made later sort after ids made earlier, so a new resource's
 * row in `resource (type, id)`, and the rows of references to it, go at the end of their indexes instead
 * of on a random page: once a file outgrows its page cache, a random key costs a page read, a page written
 * to the log and again at the checkpoint. The id is as opaque to clients as a random UUID; the time in it is
 * the one `meta.lastUpdated` already shows.
 */
export function newResourceId(now: number = Date.now()): string {
  // A random UUID (`xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx`, variant already 10) with its first 48 bits the
  // time and its version 7. 2^48 ms is the year 10889.
  const random = randomUUID();
  const time = now.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`;
}
