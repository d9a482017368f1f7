import type { TokenSource } from '@imaging/auth';
import { readEventStream } from '@imaging/fhir-http';
import type { FlowEvent } from '@imaging/messaging';

export interface FeedHandlers {
  onEvent(event: FlowEvent): void;
  /** Up: its /health answered and its feed is connected. Down: why not. */
  onStatus(up: boolean, reason?: string): void;
}

export interface FeedOptions {
  /** The service's base URL (without /fhir): `/health` and `/events` are under it. */
  baseUrl: string;
  tokens: TokenSource;
  /** How long to wait before trying a service that is down again. Default 1 s. */
  retryMs?: number;
  /** A stream silent this long (the service sends a keep-alive every 15 s) is given up and opened again. */
  idleMs?: number;
  fetch?: typeof fetch;
}

export interface FeedConnection {
  close(): void;
}

/**
 * Follows one service's event feed for as long as the view runs: checks its `/health`, opens `/events` with
 * the flow view's own token, passes on each event, and when the service goes away says so and tries again
 * every `retryMs`. Nothing is polled while the feed is open: a service that is up is only listened to.
 */
export function connectFeed(options: FeedOptions, handlers: FeedHandlers): FeedConnection {
  const doFetch = options.fetch ?? fetch;
  const retryMs = options.retryMs ?? 1000;
  const idleMs = options.idleMs ?? 45_000;
  let closed = false;
  let current: AbortController | undefined;
  let wake: () => void = () => undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /** One connection: whether it got as far as connected, and why it ended. */
  const attempt = async (): Promise<{ connected: boolean; reason: string }> => {
    const controller = new AbortController();
    current = controller;
    try {
      const health = await doFetch(`${options.baseUrl}/health`, {
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(3000)]),
        redirect: 'manual',
      });
      await health.body?.cancel();
      if (health.status !== 200) return { connected: false, reason: `/health answered ${health.status}` };
      const token = await options.tokens.getToken();
      const response = await doFetch(`${options.baseUrl}/events`, {
        headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' },
        signal: controller.signal,
        // Its token goes to the service it names, nowhere an answer points (a 3xx is not ok: not connected).
        redirect: 'manual',
      });
      if (response.status === 401) options.tokens.invalidate();
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        return { connected: false, reason: `its event feed answered ${response.status}` };
      }
      handlers.onStatus(true);
      // Any byte (a keep-alive comment included) shows the connection is alive.
      let idle = setTimeout(() => controller.abort(), idleMs);
      const watched = response.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, out) {
            clearTimeout(idle);
            idle = setTimeout(() => controller.abort(), idleMs);
            out.enqueue(chunk);
          },
        }),
      );
      try {
        for await (const { data } of readEventStream(watched)) {
          let event: FlowEvent;
          try {
            event = JSON.parse(data) as FlowEvent;
          } catch {
            continue; // not one of ours: skipped
          }
          handlers.onEvent(event);
        }
      } finally {
        clearTimeout(idle);
      }
      return { connected: true, reason: 'its event feed ended' };
    } catch (err) {
      return { connected: false, reason: reasonOf(err) };
    } finally {
      controller.abort();
    }
  };

  void (async () => {
    while (!closed) {
      const ended = await attempt();
      if (closed) break;
      if (!ended.connected) {
        handlers.onStatus(false, ended.reason);
        await sleep(retryMs);
      } else {
        // A feed that ended after connecting is checked again at once: a quick reconnect is not an outage.
        await sleep(Math.min(retryMs, 250));
      }
    }
  })();

  return {
    close() {
      closed = true;
      current?.abort();
      wake();
    },
  };
}

function reasonOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause?.code;
  if (cause === 'ECONNREFUSED') return 'connection refused';
  if ((err as Error).name === 'TimeoutError') return 'no answer';
  if ((err as Error).name === 'AbortError') return 'connection lost';
  return cause ?? (err as Error).message ?? 'unreachable';
}
