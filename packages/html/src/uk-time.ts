// Times as people in England read them on our pages: in UK time (GMT or BST), whatever the server's zone.

const LONDON = { timeZone: 'Europe/London', hour12: false } as const;

/** `14:03:07`, in UK time. */
export function clockTime(iso: string | undefined): string {
  const date = new Date(iso ?? '');
  return Number.isNaN(date.getTime())
    ? '—'
    : date.toLocaleTimeString('en-GB', { ...LONDON, hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** `23 Nov 2026, 14:03`, in UK time. */
export function dateTime(iso: string | undefined): string {
  const date = new Date(iso ?? '');
  return Number.isNaN(date.getTime())
    ? '—'
    : date.toLocaleString('en-GB', {
        ...LONDON,
        day: 'numeric',
        month: 'short',
        year: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
      });
}

/** `12 s`, `3 min`, `2 h` since a time (never negative). */
export function ageText(iso: string, now: Date): string {
  const ms = Math.max(0, now.getTime() - Date.parse(iso));
  if (ms < 60_000) return `${Math.floor(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min`;
  return `${Math.floor(ms / 3_600_000)} h`;
}
