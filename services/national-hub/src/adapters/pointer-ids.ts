import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { PointerIds } from '../domain/ports.ts';

/** 96 bits: guessing one is out of reach, and the id stays within FHIR's 64 characters. */
const TAG_HEX = 24;
/** Changing it changes every pointer's id, as a change of format must. */
const KEY_INFO = 'imaging-connect locator pointer id v1';

/** Pointer ids tagged with a MAC under `secret` (see PointerIds in domain/ports.ts). */
export function pointerIds(secret: string | Buffer): PointerIds {
  // The configured secret is a passphrase of any length; HKDF makes it a key for this use only.
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), KEY_INFO, 32));
  const tagOf = (storeId: string) => createHmac('sha256', key).update(storeId).digest('hex').slice(0, TAG_HEX);
  return {
    outward(storeId) {
      const id = `${storeId}-${tagOf(storeId)}`;
      if (id.length > 64)
        throw new Error(`A store id of ${storeId.length} characters leaves no room for a pointer's tag`);
      return id;
    },
    inward(id) {
      const cut = id.lastIndexOf('-');
      const storeId = id.slice(0, Math.max(cut, 0));
      const tag = Buffer.from(id.slice(cut + 1));
      if (cut <= 0 || tag.length !== TAG_HEX) return undefined;
      return timingSafeEqual(tag, Buffer.from(tagOf(storeId))) ? storeId : undefined;
    },
  };
}
