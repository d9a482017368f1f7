/**
 * Server-Sent Events (the HTML standard's `text/event-stream`): a service streams what happens in it to
 * whoever subscribes, over one long-lived HTTP response. One-way, plain HTTP (through any proxy), resumed by
 * the client reconnecting, and read natively by browsers (`EventSource`). Chosen over FHIR R4 rest-hook
 * Subscriptions, which need the subscriber to be reachable from the service (a callback URL) and the
 * service to keep subscriptions and retry deliveries to them.
 */

export interface StreamedEvent {
  /** The SSE `event` field: what kind of event it is. */
  event: string;
  /** The SSE `data` field: here always one line of JSON. */
  data: string;
}

export interface EventFeed<E extends { type: string }> {
  /** Sends an event to every subscriber now. */
  publish(event: E): void;
  /**
   * One subscriber's `text/event-stream` response: the events `first` gives (a snapshot of the current
   * state), then every event published from the moment of subscribing. It ends when the client goes away
   * (`signal`), when it falls too far behind, or when the feed closes.
   */
  subscribe(options?: { first?: () => Promise<readonly E[]>; signal?: AbortSignal }): Response;
  /** How many subscribers are connected. */
  readonly subscribers: number;
  /** Ends every stream (at shutdown, so the server can close) and refuses new ones. */
  close(): void;
}

export interface EventFeedOptions {
  /** A comment line this often keeps idle connections (and proxies) open. Default 15 s. */
  keepAliveMs?: number;
  /** A subscriber this many events behind is dropped; it reconnects and starts from a fresh snapshot. Default 1000. */
  maxBehind?: number;
  /** The reconnection delay told to clients (SSE `retry`). Default 1 s. */
  retryMs?: number;
}

interface Subscriber {
  /** Events published while `first` is being computed, sent after it. */
  pending: string[] | undefined;
  send(text: string): void;
  end(): void;
}

const encoder = new TextEncoder();

/** A chunk of the stream for one event. */
export function sseChunk(event: { type: string }): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export function eventFeed<E extends { type: string }>(options: EventFeedOptions = {}): EventFeed<E> {
  const maxBehind = options.maxBehind ?? 1000;
  const subscribers = new Set<Subscriber>();
  let closed = false;
  const keepAlive = setInterval(() => {
    for (const s of subscribers) s.send(': keep-alive\n\n');
  }, options.keepAliveMs ?? 15_000);
  keepAlive.unref();

  return {
    publish(event) {
      if (subscribers.size === 0) return;
      const chunk = sseChunk(event);
      for (const s of subscribers) {
        if (s.pending) s.pending.push(chunk);
        else s.send(chunk);
      }
    },
    subscribe({ first, signal } = {}) {
      let subscriber: Subscriber | undefined;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          let ended = false;
          const s: Subscriber = {
            pending: [],
            send(text) {
              if (ended) return;
              // A client that reads nothing (or too slowly) is dropped rather than buffered without end.
              if ((controller.desiredSize ?? 0) < -maxBehind) return s.end();
              controller.enqueue(encoder.encode(text));
            },
            end() {
              if (ended) return;
              ended = true;
              subscribers.delete(s);
              try {
                controller.close();
              } catch {
                // already cancelled by the client
              }
            },
          };
          subscriber = s;
          if (closed) return s.end();
          subscribers.add(s);
          signal?.addEventListener('abort', () => s.end(), { once: true });
          s.send(`retry: ${options.retryMs ?? 1000}\n\n`);
          void (async () => {
            try {
              for (const event of first ? await first() : []) s.send(sseChunk(event));
            } catch {
              // No snapshot (the store did not answer): end, and the client reconnects for a fresh one.
              return s.end();
            }
            const queued = s.pending ?? [];
            s.pending = undefined;
            for (const chunk of queued) s.send(chunk);
          })();
        },
        cancel() {
          subscriber?.end();
        },
      });
      return new Response(body, {
        headers: {
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-cache, no-store',
          // Proxies such as nginx would otherwise hold events back in their buffers.
          'X-Accel-Buffering': 'no',
          // A stream's connection is not reused after it: it ends when the service shuts down, and must not
          // keep the service open by carrying the client's next request.
          Connection: 'close',
        },
      });
    },
    get subscribers() {
      return subscribers.size;
    },
    close() {
      closed = true;
      clearInterval(keepAlive);
      for (const s of [...subscribers]) s.end();
    },
  };
}

/**
 * The events of a `text/event-stream` body, as they arrive (the HTML standard's parsing rules for the
 * fields used here: `event`, multi-line `data`, comments; `id` and `retry` are read past). Ends with the body.
 */
export async function* readEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamedEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.search(/\r\n|\r|\n/);
    while (newline >= 0) {
      // A '\r' that ends the chunk may be the first half of '\r\n': wait for the next chunk.
      if (newline === buffer.length - 1 && buffer.endsWith('\r')) break;
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (data.length) yield { event: event || 'message', data: data.join('\n') };
        event = '';
        data = [];
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      newline = buffer.search(/\r\n|\r|\n/);
    }
  }
}
