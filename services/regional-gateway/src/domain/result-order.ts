import type { Reference } from '@medplum/fhirtypes';

/*
 * Which order a study or report is for. The pathway maps one order to one study and one report: a result
 * writes, routes, meets due times and completes Tasks for its one order (results.ts, inbound.ts,
 * breaches.ts, tasks.ts), and one that names several is no order's.
 */

/**
 * `ServiceRequest/<id>` for a reference to an order (`ServiceRequest/<id>`, with or without a version or
 * a base URL); undefined for anything else, a logical reference included.
 */
export function orderReference(ref: Reference | undefined): string | undefined {
  const m = /(?:^|\/)ServiceRequest\/([^/]+)(?:\/_history\/[^/]+)?$/.exec(ref?.reference ?? '');
  return m ? `ServiceRequest/${m[1]}` : undefined;
}

/** The entries of a study's or report's basedOn that name an order: literal, or logical (`type` ServiceRequest). */
export function orderEntries(basedOn: readonly Reference[] | undefined): { index: number; ref: Reference }[] {
  return (basedOn ?? []).flatMap((ref, index) =>
    orderReference(ref) || ref.type === 'ServiceRequest' ? [{ index, ref }] : [],
  );
}

/**
 * The one order a study or report is for (`ServiceRequest/<id>`): the pathway maps one order to its study
 * and its report. Undefined when it names no order, or several: such a result is no order's, so it meets
 * no order's due time and completes no order's Task.
 */
export function orderOfResult(result: { basedOn?: Reference[] }): string | undefined {
  const [only, ...more] = orderEntries(result.basedOn);
  return only && more.length === 0 ? orderReference(only.ref) : undefined;
}
