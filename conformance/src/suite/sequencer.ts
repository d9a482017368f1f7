import { BaseSequencer } from 'vitest/node';
import type { TestSpecification } from 'vitest/node';

/**
 * Files in a fixed order: the pathway (4) before the resource group (3), which validates what the
 * pathway's services wrote; the rest by group number.
 */
export const FILE_ORDER = [
  '1-store-contract',
  '2-server-capability',
  '4-pathway',
  '3-resource-conformance',
  '5-actor',
  '6-attack-surface',
  '7-clinical-safety',
];

export function orderOf(moduleId: string): number {
  const i = FILE_ORDER.findIndex((key) => moduleId.includes(`/groups/${key}`));
  return i === -1 ? FILE_ORDER.length : i;
}

export class GroupSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => orderOf(a.moduleId) - orderOf(b.moduleId) || a.moduleId.localeCompare(b.moduleId));
  }
}
