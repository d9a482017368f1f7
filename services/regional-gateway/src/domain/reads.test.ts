import { describe, expect, it } from 'vitest';
import { reportedCase } from '../testing/pathway.ts';
import { RIS } from '../testing/regions.ts';
import { searchVisible } from './reads.ts';
import { checkGatewaySearch } from './search-rules.ts';

describe('searchVisible', () => {
  it('keeps included resources of a type the token may not read out of a page', async () => {
    const { regions, midlands } = await reportedCase();
    const search = checkGatewaySearch('ImagingStudy', new URLSearchParams('_include=ImagingStudy:endpoint'));
    const all = await searchVisible(regions.midlands, RIS, search, () => true);
    expect(all.included.map((r) => r.id)).toEqual([midlands.Endpoint.id]);
    const withoutEndpoints = await searchVisible(regions.midlands, RIS, search, (type) => type !== 'Endpoint');
    expect(withoutEndpoints.resources.map((r) => r.id)).toEqual([midlands.ImagingStudy.id]);
    expect(withoutEndpoints.included).toEqual([]);
  });
});
