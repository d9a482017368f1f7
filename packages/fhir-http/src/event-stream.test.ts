import { afterEach, describe, expect, it } from 'vitest';
import type { EventFeed, StreamedEvent } from './event-stream.ts';
import { eventFeed, readEventStream } from './event-stream.ts';

type Tick = { type: 'tick'; n: number };

/** Reads `count` events of a stream, then lets go of it. */
async function take(response: Response, count: number): Promise<StreamedEvent[]> {
  const got: StreamedEvent[] = [];
  if (count === 0) return got;
  for await (const event of readEventStream(response.body as ReadableStream<Uint8Array>)) {
    got.push(event);
    if (got.length === count) break;
  }
  return got;
}

const body = (text: string) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      // In two chunks split mid-line and mid-CRLF, as a network may deliver it.
      const bytes = new TextEncoder().encode(text);
      const cut = text.indexOf('\r') + 1;
      controller.enqueue(bytes.slice(0, cut));
      controller.enqueue(bytes.slice(cut));
      controller.close();
    },
  });

describe('eventFeed', () => {
  let feed: EventFeed<Tick>;
  afterEach(() => feed?.close());

  it('streams the snapshot first, then what is published, as text/event-stream', async () => {
    feed = eventFeed<Tick>();
    const response = feed.subscribe({ first: async () => [{ type: 'tick', n: 0 }] });
    expect(response.headers.get('Content-Type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('Cache-Control')).toContain('no-cache');
    const reading = take(response, 3);
    await new Promise((resolve) => setTimeout(resolve, 10));
    feed.publish({ type: 'tick', n: 1 });
    feed.publish({ type: 'tick', n: 2 });
    const events = await reading;
    expect(events.map((e) => e.event)).toEqual(['tick', 'tick', 'tick']);
    expect(events.map((e) => (JSON.parse(e.data) as Tick).n)).toEqual([0, 1, 2]);
  });

  it('keeps what is published while the snapshot is made, and sends it after the snapshot', async () => {
    feed = eventFeed<Tick>();
    let release: () => void = () => undefined;
    const snapshotTaken = new Promise<void>((resolve) => {
      release = resolve;
    });
    const response = feed.subscribe({
      first: async () => {
        await snapshotTaken;
        return [{ type: 'tick', n: 0 }];
      },
    });
    const reading = take(response, 2);
    await new Promise((resolve) => setTimeout(resolve, 10));
    feed.publish({ type: 'tick', n: 1 });
    release();
    expect((await reading).map((e) => (JSON.parse(e.data) as Tick).n)).toEqual([0, 1]);
  });

  it('forgets a subscriber that goes away, and ends every stream on close', async () => {
    feed = eventFeed<Tick>();
    const gone = new AbortController();
    feed.subscribe({ signal: gone.signal });
    const staying = feed.subscribe();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(feed.subscribers).toBe(2);
    gone.abort();
    expect(feed.subscribers).toBe(1);
    const rest = take(staying, 5);
    feed.close();
    expect(await rest).toEqual([]);
    expect(feed.subscribers).toBe(0);
    expect(await take(feed.subscribe(), 5)).toEqual([]);
  });

  it('drops a subscriber that reads nothing once it is too far behind', async () => {
    feed = eventFeed<Tick>({ maxBehind: 5 });
    feed.subscribe();
    await new Promise((resolve) => setTimeout(resolve, 10));
    for (let n = 0; n < 20; n++) feed.publish({ type: 'tick', n });
    expect(feed.subscribers).toBe(0);
  });

  it('ends a stream whose snapshot cannot be made, so the client comes back for a fresh one', async () => {
    feed = eventFeed<Tick>();
    const response = feed.subscribe({
      first: async () => {
        throw new Error('store down');
      },
    });
    expect(await take(response, 1)).toEqual([]);
    expect(feed.subscribers).toBe(0);
  });
});

describe('readEventStream', () => {
  it('reads events, multi-line data and CRLF line ends, skipping comments, ids and retry', async () => {
    const text = ': hello\r\nretry: 1000\r\n\r\nevent: a\r\nid: 7\r\ndata: one\r\ndata:two\r\n\r\ndata: plain\n\n';
    const events: StreamedEvent[] = [];
    for await (const e of readEventStream(body(text))) events.push(e);
    expect(events).toEqual([
      { event: 'a', data: 'one\ntwo' },
      { event: 'message', data: 'plain' },
    ]);
  });
});
