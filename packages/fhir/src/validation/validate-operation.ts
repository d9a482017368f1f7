import type { OperationOutcome, Parameters, Resource } from '@medplum/fhirtypes';
import { badRequest, invalid, issue, notSupported, OutcomeError, outcomeOf } from '../outcomes.ts';
import { PROFILE_URLS } from './profiles/index.ts';
import { validationIssues, wellFormedIssues } from './validate.ts';

export const VALIDATE_OPERATION = 'http://hl7.org/fhir/OperationDefinition/Resource-validate';

/**
 * `[base]/<type>/$validate` (R4 Resource-validate): the body is a Parameters with the `resource`
 * (optionally `mode` create or update, and `profile`), or the resource itself. The answer is an
 * OperationOutcome of exactly what a write would be refused for (the validation every store write
 * applies: base R4, required bindings, the project's profile), one issue per problem; or a single
 * informational issue when there is none. A body that is not a validation request is a 400.
 */
export function validateOperation(type: string, body: Resource): OperationOutcome {
  const { resource, profile } = validationRequest(type, body);
  const expected = (PROFILE_URLS as Partial<Record<string, string>>)[type];
  if (profile !== undefined && profile !== expected) {
    throw new OutcomeError(
      notSupported(
        expected ? `${profile} is not a profile of ${type} here; use ${expected}` : `${type} has no profile here`,
        'Parameters.parameter.where(name = "profile")',
      ),
    );
  }
  const issues = validationIssues(resource);
  return outcomeOf(
    'ok',
    issues.length > 0
      ? issues
      : [issue({ severity: 'information', code: 'informational', text: 'No issues detected during validation' })],
  );
}

function validationRequest(type: string, body: Resource): { resource: Resource; profile?: string } {
  if (body.resourceType !== 'Parameters') return checkType(type, body);
  // The Parameters' own structure first (400), so the reading below may rely on R4 JSON types. What is
  // wrong inside a carried resource is not the request's problem but the answer: it is left to validation.
  // Checked on a copy with each carried resource stubbed out, not only by the issues' paths: the base
  // validator names some of a carried resource's problems without the parameter's index. What is left
  // below a resource (one that is not an object) is noise about it; the issue at the resource says it.
  const structure = wellFormedIssues(withResourcesStubbed(body)).filter(
    (i) => !i.expression?.some((e) => /^Parameters\.parameter(\[\d+\])?\.resource[.[]/.test(e)),
  );
  if (structure.length > 0) throw new OutcomeError(invalid(structure));
  const parameters = (body as Parameters).parameter ?? [];
  const named = (name: string) => parameters.filter((p) => p.name === name);
  const resource = named('resource')[0]?.resource;
  if (!resource || named('resource').length > 1)
    throw new OutcomeError(badRequest('The Parameters must carry one resource to validate', 'Parameters.parameter'));
  const mode = named('mode')[0]?.valueCode ?? named('mode')[0]?.valueString;
  if (mode !== undefined && mode !== 'create' && mode !== 'update') {
    throw new OutcomeError(
      notSupported(
        `mode '${mode}' is not supported: use create or update`,
        'Parameters.parameter.where(name = "mode")',
      ),
    );
  }
  const profileParameter = named('profile')[0];
  const profile = profileParameter?.valueUri ?? profileParameter?.valueCanonical ?? profileParameter?.valueString;
  return { ...checkType(type, resource), ...(profile ? { profile } : {}) };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// A resource to validate: an object naming its type (anything else is the Parameters' own problem, as before).
const isCarried = (value: unknown): boolean => isObject(value) && typeof value.resourceType === 'string';

/** The Parameters with every carried resource (at any depth of parts) a well-formed stub. */
function withResourcesStubbed(body: Resource): Resource {
  const stub = (parameters: unknown): unknown =>
    Array.isArray(parameters)
      ? parameters.map((p) =>
          isObject(p)
            ? {
                ...p,
                ...(isCarried(p.resource) ? { resource: { resourceType: 'Basic', code: { text: 'stub' } } } : {}),
                ...('part' in p ? { part: stub(p.part) } : {}),
              }
            : p,
        )
      : parameters; // not a list: the check itself says so
  const { parameter } = body as { parameter?: unknown };
  return parameter === undefined ? body : ({ ...body, parameter: stub(parameter) } as Resource);
}

function checkType(type: string, resource: Resource): { resource: Resource } {
  if (resource.resourceType !== type)
    throw new OutcomeError(badRequest(`$validate of ${type} was given a ${resource.resourceType}`, 'resourceType'));
  return { resource };
}
