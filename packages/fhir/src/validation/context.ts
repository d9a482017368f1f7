import type { Resource } from '@medplum/fhirtypes';

/** What a rule may know beyond the resource itself. */
export interface ValidationContext {
  /**
   * Inside a transaction Bundle: the resource type of each entry's `urn:uuid:` full URL, so references
   * to other entries can be type-checked. Absent outside a transaction, where a `urn:uuid:` reference
   * can never resolve.
   */
  readonly urnTypes?: ReadonlyMap<string, string>;
  /** The resource being validated (for `#id` references to contained resources). */
  readonly resource?: Resource;
}
