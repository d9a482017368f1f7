import type { ValueSet, ValueSetExpansionContains } from '@medplum/fhirtypes';
import { badRequest, OutcomeError } from '../outcomes.ts';
import { CANONICAL_BASE, SNOMED_SYSTEM } from '../systems.ts';
import { DIDS_REFSET, IMAGING_PROCEDURES } from '../terminology/imaging-procedures.ts';

export const IMAGING_PROCEDURES_VALUE_SET = `${CANONICAL_BASE}/ValueSet/imaging-procedures`;

/**
 * The procedure codes an order may carry (its SNOMED CT coding must be one of them), from the same list
 * the ServiceRequest profile checks, so what is published and what is enforced cannot differ.
 */
export function imagingProceduresValueSet(): ValueSet {
  return {
    resourceType: 'ValueSet',
    id: 'imaging-procedures',
    url: IMAGING_PROCEDURES_VALUE_SET,
    name: 'ImagingProcedures',
    title: 'Imaging procedures an order may request',
    status: 'active',
    experimental: true,
    description:
      `The SNOMED CT imaging procedures accepted in ServiceRequest.code. A demo subset of the DIDS refset ` +
      `${DIDS_REFSET}: an order for any other SNOMED CT code is refused (422, code-invalid).`,
    compose: {
      include: [
        { system: SNOMED_SYSTEM, concept: IMAGING_PROCEDURES.map((p) => ({ code: p.snomed, display: p.display })) },
      ],
    },
  };
}

/** The value sets the services publish. */
export function publishedValueSets(): ValueSet[] {
  return [imagingProceduresValueSet()];
}

export interface ExpandOptions {
  /** Only concepts whose code or display contains this text (case-insensitive). */
  filter?: string;
  offset?: number;
  count?: number;
  /** The expansion's timestamp. */
  now: Date;
}

/**
 * `$expand` of a value set whose compose lists its concepts (ours all do): every concept, filtered and
 * paged as asked. A compose that selects by filter or by another value set cannot be expanded here (a bug:
 * we publish none).
 */
export function expandValueSet(valueSet: ValueSet, options: ExpandOptions): ValueSet {
  const all: ValueSetExpansionContains[] = (valueSet.compose?.include ?? []).flatMap((include) => {
    if (!include.concept || include.filter || include.valueSet)
      throw new Error(`${valueSet.url} does not enumerate its concepts`);
    return include.concept.map((c) => ({ system: include.system, code: c.code, display: c.display }));
  });
  const needle = options.filter?.toLowerCase();
  const matching = needle
    ? all.filter((c) => c.code?.toLowerCase().includes(needle) || c.display?.toLowerCase().includes(needle))
    : all;
  const offset = options.offset ?? 0;
  const page = matching.slice(offset, options.count === undefined ? undefined : offset + options.count);
  const { compose: _compose, ...rest } = valueSet;
  return {
    ...rest,
    expansion: {
      identifier: `urn:uuid:${crypto.randomUUID()}`,
      timestamp: options.now.toISOString(),
      total: matching.length,
      offset,
      ...(options.filter ? { parameter: [{ name: 'filter', valueString: options.filter }] } : {}),
      contains: page,
    },
  };
}

/** The `filter`, `offset` and `count` of an `$expand` request's parameters; a 400 for any other. */
export function expandOptionsOf(params: URLSearchParams, now: Date): ExpandOptions {
  const options: ExpandOptions = { now };
  for (const [name, value] of params) {
    if (name === 'url' || name === '_format' || name === '_pretty') continue;
    if (name === 'filter') options.filter = value;
    else if (name === 'offset' || name === 'count') {
      if (!/^\d{1,6}$/.test(value))
        throw new OutcomeError(badRequest(`${name} must be a whole number, not '${value}'`, name));
      options[name] = Number(value);
    } else {
      throw new OutcomeError(
        badRequest(`$expand parameter '${name}' is not supported; use filter, offset, count`, name),
      );
    }
  }
  return options;
}
