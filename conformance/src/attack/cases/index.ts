import { ACCESS_CASES } from './access.ts';
import { BODY_CASES } from './bodies.ts';
import type { AttackCase, Family } from './case.ts';
import { FLOW_CASES } from './flow.ts';
import { MESSAGE_CASES } from './messages.ts';
import { SEARCH_CASES } from './search.ts';
import { TOKEN_CASES } from './tokens.ts';

export { FAMILIES } from './case.ts';
export type { AttackCase, Family } from './case.ts';

/** Every case of the suite, by family. */
export const ATTACK_CASES: Readonly<Record<Family, readonly AttackCase[]>> = {
  tokens: TOKEN_CASES,
  access: ACCESS_CASES,
  messages: MESSAGE_CASES,
  bodies: BODY_CASES,
  search: SEARCH_CASES,
  flow: FLOW_CASES,
};
