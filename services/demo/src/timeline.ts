/**
 * The demo's timeline: one line per event, in fixed-width columns an architect can read in a
 * terminal: time since start, where (a region, or a hop between two), who (client or organisation),
 * what happened, and how long the hop took.
 *
 *   +1.234s  north → midlands   hub             order N81001-093512-1 routed                     84 ms
 */

export interface TimelineEvent {
  /** A region, or a hop such as `north → midlands`. */
  where: string;
  /** The client or organisation acting (`gp-n81001`, `RM1`, `hub`, `demo`). */
  who: string;
  what: string;
  /** How long the hop took, when the event is a hop. */
  hopMs?: number;
  /** `check` lines record a verification against a store. */
  kind?: 'event' | 'check' | 'fail' | 'note';
}

const WHERE = 19;
const WHO = 16;
const WHAT = 62;
/** A line without a hop may run on past the hop column, this far. */
const WHAT_WITHOUT_HOP = 92;

export interface Timeline {
  /** Milliseconds since the timeline started. */
  elapsed(): number;
  event(event: TimelineEvent): void;
  /** A check that passed, against a store. */
  check(where: string, what: string): void;
  /** A heading for a step. */
  step(index: number, total: number, title: string): void;
  /** A step's result line. */
  result(index: number, total: number, passed: boolean, tookMs: number, why?: string): void;
  line(text?: string): void;
}

export function createTimeline(write: (text: string) => void, now: () => number = () => performance.now()): Timeline {
  const start = now();
  const elapsed = () => now() - start;
  const stamp = () => `+${(elapsed() / 1000).toFixed(3)}s`.padStart(9);
  const line = (text = '') => write(`${text}\n`);
  return {
    elapsed,
    line,
    event(e) {
      const mark = e.kind === 'check' ? '✓ ' : e.kind === 'fail' ? '✗ ' : e.kind === 'note' ? '· ' : '';
      const what = `${mark}${e.what}`;
      const hop = e.hopMs === undefined ? '' : formatMs(e.hopMs).padStart(9);
      // A failure is shown whole: it is what the reader needs to act on.
      const body = hop
        ? `${fit(what, WHAT).padEnd(WHAT)}${hop}`
        : e.kind === 'fail'
          ? what
          : fit(what, WHAT_WITHOUT_HOP);
      line(`${stamp()}  ${fit(e.where, WHERE).padEnd(WHERE)} ${fit(e.who, WHO).padEnd(WHO)} ${body}`.trimEnd());
    },
    check(where, what) {
      this.event({ where, who: 'store', what, kind: 'check' });
    },
    step(index, total, title) {
      line();
      line(
        `── step ${index}/${total}: ${title} ${'─'.repeat(Math.max(3, 100 - title.length - 16 - String(index).length - String(total).length))}`,
      );
    },
    result(index, total, passed, tookMs, why) {
      const verdict = passed ? 'PASSED' : 'FAILED';
      line(`${stamp()}  step ${index}/${total} ${verdict} in ${formatMs(tookMs)}${why ? `: ${why}` : ''}`);
    },
  };
}

/** A long id (a UUID) cut to its first 8 characters, enough to tell resources apart in a timeline. */
export function short(id: string | undefined): string {
  if (!id) return '?';
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

export function formatMs(ms: number): string {
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Cuts text to a column's width (an ellipsis shows the cut). */
function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
