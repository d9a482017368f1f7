import type { Communication, OperationOutcome, Parameters, ParametersParameter, Task } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, searchAll, SYSTEMS } from '@imaging/fhir';
import type { AlertCategory } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import { deliverDue } from '../domain/delivery.ts';
import { GP_TOKEN, RIS_TOKEN, testGateway } from '../testing/app.ts';
import { alertCase, auditsOf, communications, theAlert, watchTasks } from '../testing/alerts.ts';
import { testRegions } from '../testing/regions.ts';

const MINUTE = 60_000;
const parameters = (...parameter: ParametersParameter[]): Parameters => ({ resourceType: 'Parameters', parameter });
const acknowledgedBy: ParametersParameter = {
  name: 'acknowledgedBy',
  valueReference: {
    type: 'PractitionerRole',
    identifier: { system: SYSTEMS.practitionerRole, value: 'n81001-patel' },
    display: 'Dr Asha Patel',
  },
};
const recordedBy: ParametersParameter = { name: 'recordedBy', valueString: 'Dr Asha Patel' };
const decision = (code: string): ParametersParameter => ({
  name: 'decision',
  valueCoding: { system: CODE_SYSTEMS.alertDecision, code },
});

/** A Task, or the OperationOutcome of a refusal. */
type Answered = Omit<Task, 'resourceType'> & Omit<OperationOutcome, 'resourceType'> & { resourceType: string };

/** An alert of `category` in the north, raised by a report from the midlands, and the north gateway's app. */
async function alertInTheNorth(category: AlertCategory) {
  const regions = testRegions();
  const { requester, performer } = await alertCase(regions, { category });
  const gateway = await testGateway(requester);
  const gp = await gateway.token(GP_TOKEN);
  const operate = async (
    id: string,
    operation: '$acknowledge' | '$record-action',
    body: Parameters,
    options: { token?: string; ifMatch?: string } = {},
  ) => {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${options.token ?? gp}`,
      'Content-Type': 'application/fhir+json',
    };
    if (options.ifMatch) headers['If-Match'] = options.ifMatch;
    const res = await gateway.app.request(`/fhir/Task/${id}/${operation}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Answered };
  };
  return { ...regions, requester, performer, gateway, operate, alert: await theAlert(requester) };
}

type Context = Awaited<ReturnType<typeof alertInTheNorth>>;
type Answer = { status: number; body: Answered };

/** Everything an operation could write: the alert's version, AuditEvents, Communications, deliveries. */
async function snapshot(deps: Context['requester']) {
  return {
    version: (await theAlert(deps)).meta?.versionId,
    audits: (await searchAll(deps.store, 'AuditEvent')).length,
    communications: (await communications(deps)).length,
    deliveries: (await searchAll(deps.store, 'Task', { code: `${CODE_SYSTEMS.taskCode}|deliver-message` })).length,
  };
}

const acknowledge = ({ alert, operate }: Context) => operate(alert.id, '$acknowledge', parameters(acknowledgedBy));

/** Bad calls: `setup` reaches the state under test (it may write), `refused` is the call that must write nothing. */
const REFUSALS: {
  name: string;
  category: AlertCategory;
  setup?: (ctx: Context) => Promise<unknown>;
  refused: (ctx: Context) => Promise<Answer>;
  status: number;
  code: string;
  /** The first issue's FHIRPath, where the test pins it. */
  expression?: string;
}[] = [
  {
    name: 'the performer, which does not own the alert',
    category: 'URGENT',
    refused: async ({ alert, operate, gateway }) =>
      operate(alert.id, '$acknowledge', parameters(acknowledgedBy), {
        token: await gateway.token({ ...RIS_TOKEN, region: 'north', scope: ['system/Task.rus'] }),
      }),
    status: 403,
    code: 'forbidden',
  },
  {
    name: 'another organisation, to which the alert is not visible',
    category: 'URGENT',
    refused: async ({ alert, operate, gateway }) =>
      operate(alert.id, '$acknowledge', parameters(acknowledgedBy), {
        token: await gateway.token({ ...GP_TOKEN, sub: 'gp-n81002', org: 'N81002' }),
      }),
    status: 404,
    code: 'not-found',
  },
  {
    name: 'no acknowledgedBy',
    category: 'URGENT',
    refused: ({ alert, operate }) =>
      operate(alert.id, '$acknowledge', parameters({ name: 'note', valueString: 'seen' })),
    status: 400,
    code: 'invalid',
  },
  {
    name: 'an unknown parameter',
    category: 'URGENT',
    refused: ({ alert, operate }) =>
      operate(alert.id, '$acknowledge', parameters(acknowledgedBy, { name: 'priority', valueCode: 'low' })),
    status: 400,
    code: 'invalid',
  },
  {
    name: 'a voice call without its time',
    category: 'CRITICAL',
    refused: ({ alert, operate }) =>
      operate(
        alert.id,
        '$acknowledge',
        parameters(acknowledgedBy, { name: 'communicatedBy', valueString: 'Dr Novak' }),
      ),
    status: 400,
    code: 'invalid',
  },
  // Malformed Parameters: each a 400 at the broken element, never a TypeError (a 500).
  ...(
    [
      ['an object', { name: 'acknowledgedBy', valueString: 'Dr Asha Patel' }, 'Parameters.parameter'],
      ['a string', 'acknowledgedBy', 'Parameters.parameter'],
      ['a null in the list', [null], 'Parameters.parameter[0]'],
    ] as const
  ).map(([what, parameter, expression]) => ({
    name: `a parameter that is ${what}`,
    category: 'URGENT' as const,
    refused: ({ alert, operate }: Context) =>
      operate(alert.id, '$acknowledge', { resourceType: 'Parameters', parameter } as unknown as Parameters),
    status: 400,
    code: 'structure',
    expression,
  })),
  {
    name: 'a $record-action parameter that is not a list',
    category: 'CANCER',
    setup: acknowledge,
    refused: ({ alert, operate }) =>
      operate(alert.id, '$record-action', {
        resourceType: 'Parameters',
        parameter: recordedBy,
      } as unknown as Parameters),
    status: 400,
    code: 'structure',
    expression: 'Parameters.parameter',
  },
  {
    name: 'a decision whose coding is not a list',
    category: 'CANCER',
    setup: acknowledge,
    refused: ({ alert, operate }) =>
      operate(
        alert.id,
        '$record-action',
        parameters(recordedBy, {
          name: 'decision',
          valueCodeableConcept: { coding: 'x' },
        } as unknown as ParametersParameter),
      ),
    status: 400,
    code: 'structure',
    expression: 'Parameters.parameter.value[x].coding',
  },
  {
    name: 'a stale If-Match',
    category: 'URGENT',
    refused: ({ alert, operate }) =>
      operate(alert.id, '$acknowledge', parameters(acknowledgedBy), { ifMatch: 'W/"99"' }),
    status: 412,
    code: 'conflict',
  },
  {
    name: 'an action before the acknowledgement',
    category: 'CRITICAL',
    refused: ({ alert, operate }) =>
      operate(alert.id, '$record-action', parameters(recordedBy, decision('treatment-started'))),
    status: 409,
    code: 'conflict',
  },
  {
    name: 'a second acknowledgement',
    category: 'URGENT',
    setup: acknowledge,
    refused: acknowledge,
    status: 409,
    code: 'conflict',
  },
  {
    name: 'an action on a closed alert',
    category: 'SIGNIFICANT',
    setup: acknowledge,
    refused: ({ alert, operate }) =>
      operate(alert.id, '$record-action', parameters(recordedBy, decision('surveillance'))),
    status: 409,
    code: 'conflict',
  },
  {
    name: 'an unknown decision',
    category: 'CANCER',
    setup: acknowledge,
    refused: ({ alert, operate }) => operate(alert.id, '$record-action', parameters(recordedBy, decision('ignore-it'))),
    status: 422,
    code: 'code-invalid',
  },
  {
    name: 'two actions at once',
    category: 'CANCER',
    setup: acknowledge,
    refused: ({ alert, operate }) =>
      operate(
        alert.id,
        '$record-action',
        parameters(recordedBy, decision('surveillance'), {
          name: 'followUp',
          valueReference: { type: 'ServiceRequest', identifier: { system: SYSTEMS.placerOrder, value: 'N81001-9' } },
        }),
      ),
    status: 400,
    code: 'invalid',
  },
  {
    name: 'a follow-up this caller may not read',
    category: 'CANCER',
    setup: acknowledge,
    refused: ({ alert, operate }) =>
      operate(
        alert.id,
        '$record-action',
        parameters(recordedBy, { name: 'followUp', valueReference: { reference: 'ServiceRequest/not-here' } }),
      ),
    status: 422,
    code: 'business-rule',
  },
  {
    name: 'an action that is not a ServiceRequest',
    category: 'CANCER',
    setup: acknowledge,
    refused: ({ alert, operate }) =>
      operate(
        alert.id,
        '$record-action',
        parameters(recordedBy, { name: 'referral', valueReference: { display: 'told the MDT' } }),
      ),
    status: 422,
    code: 'business-rule',
  },
];

describe('$acknowledge and $record-action', () => {
  it("acknowledging an URGENT alert closes it, and closes the watch in the performer's region", async () => {
    const { alert, operate, requester, performer } = await alertInTheNorth('URGENT');
    const { status, body } = await operate(alert.id, '$acknowledge', parameters(acknowledgedBy));
    expect(status).toBe(200);
    expect(body).toMatchObject({ resourceType: 'Task', id: alert.id, status: 'completed' });
    expect(body.extension).toBeUndefined(); // no next check: the job will never read it again
    expect(body.output?.find((o) => o.type?.text === 'acknowledged-by')?.valueReference?.display).toBe('Dr Asha Patel');
    const [audit] = await auditsOf(requester, 'alert-acknowledged');
    expect(audit?.agent?.[0]).toMatchObject({ altId: 'gp-n81001', who: { identifier: { value: 'N81001' } } });
    expect(await deliverDue(requester)).toMatchObject({ delivered: 1, failed: 0 });
    const [watch] = await watchTasks(performer);
    expect(watch).toMatchObject({ status: 'completed' });
    expect(watch?.output?.find((o) => o.type?.text === 'acknowledged-at')).toBeDefined();
  });

  it('acknowledging a CRITICAL alert does not close it: the action and the voice call must be recorded', async () => {
    const { alert, operate, requester, performer, clock } = await alertInTheNorth('CRITICAL');
    const acknowledged = await operate(alert.id, '$acknowledge', parameters(acknowledgedBy));
    expect(acknowledged.status).toBe(200);
    expect(acknowledged.body.status).toBe('in-progress');
    // The action is now due within one step window (30 min for CRITICAL), and the job will look then.
    expect(acknowledged.body.extension?.[0]?.valueDateTime).toBe(
      new Date(clock.now().getTime() + 30 * MINUTE).toISOString(),
    );

    const withoutVoice = await operate(alert.id, '$record-action', parameters(recordedBy, decision('emergency-care')));
    expect(withoutVoice.status).toBe(422);
    expect(withoutVoice.body.issue?.[0]?.expression).toEqual(["Parameters.parameter.where(name = 'communicatedBy')"]);

    const calledAt = new Date(clock.now().getTime() - 5 * MINUTE).toISOString();
    const done = await operate(
      alert.id,
      '$record-action',
      parameters(
        recordedBy,
        {
          name: 'followUp',
          valueReference: {
            type: 'ServiceRequest',
            identifier: { system: SYSTEMS.placerOrder, value: 'N81001-000124' },
          },
        },
        { name: 'communicatedBy', valueString: 'Dr Eva Novak, consultant radiologist, RM1' },
        { name: 'communicatedAt', valueDateTime: calledAt },
        { name: 'note', valueString: 'Patient called in for same-day CT angiogram' },
      ),
    );
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('completed');
    const verbalRef = done.body.output?.find((o) => o.type?.text === 'verbal-communication')?.valueReference?.reference;
    const verbal = await requester.store.read<Communication>('Communication', verbalRef?.split('/')[1] as string);
    expect(verbal).toMatchObject({
      medium: [{ coding: [{ code: 'VERBAL' }] }],
      sender: { display: 'Dr Eva Novak, consultant radiologist, RM1' },
      sent: calledAt,
      basedOn: [{ reference: `Task/${alert.id}` }],
    });
    expect(await auditsOf(requester, 'alert-action-recorded')).toHaveLength(1);

    // Both events reach the performer's watch, in order: acknowledged, then closed with the action.
    expect(await deliverDue(requester)).toMatchObject({ delivered: 2, failed: 0 });
    const [watch] = await watchTasks(performer);
    expect(watch?.status).toBe('completed');
    expect(watch?.output?.find((o) => o.type?.text === 'action-follow-up')?.valueReference?.identifier?.value).toBe(
      'N81001-000124',
    );
    expect(watch?.output?.find((o) => o.type?.text === 'verbal-communication')?.valueReference?.identifier?.value).toBe(
      verbal.identifier?.[0]?.value,
    );
  });

  it("records a CANCER alert's referral after its acknowledgement", async () => {
    const { alert, operate } = await alertInTheNorth('CANCER');
    expect((await operate(alert.id, '$acknowledge', parameters(acknowledgedBy))).body.status).toBe('in-progress');
    const referral = {
      name: 'referral',
      valueReference: { type: 'ServiceRequest', identifier: { system: SYSTEMS.placerOrder, value: 'N81001-2WW-77' } },
    } as ParametersParameter;
    const done = await operate(alert.id, '$record-action', parameters(recordedBy, referral));
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('completed');
  });

  it.each(REFUSALS)('refuses $name with the right OperationOutcome, and writes nothing', async (refusal) => {
    const ctx = await alertInTheNorth(refusal.category);
    await refusal.setup?.(ctx);
    const before = await snapshot(ctx.requester);
    const { status, body } = await refusal.refused(ctx);
    expect(status).toBe(refusal.status);
    expect(body.resourceType).toBe('OperationOutcome');
    expect(body.issue?.[0]?.code).toBe(refusal.code);
    if (refusal.expression) expect(body.issue?.[0]?.expression).toEqual([refusal.expression]);
    expect(await snapshot(ctx.requester)).toEqual(before);
  });

  it('a fulfilment Task is not an alert (422), and an alert Task cannot be moved on with PUT (422)', async () => {
    const { requester, operate, gateway } = await alertInTheNorth('URGENT');
    const [fulfil] = await searchAll<Task>(requester.store, 'Task', { code: `${CODE_SYSTEMS.taskCode}|fulfil` });
    const notAlert = await operate(fulfil?.id as string, '$acknowledge', parameters(acknowledgedBy));
    expect(notAlert.status).toBe(422);
    const alert = await theAlert(requester);
    const put = await gateway.app.request(`/fhir/Task/${alert.id}`, {
      method: 'PUT',
      headers: {
        Authorization: `Bearer ${await gateway.token(GP_TOKEN)}`,
        'Content-Type': 'application/fhir+json',
        'If-Match': `W/"${alert.meta?.versionId}"`,
      },
      body: JSON.stringify({ ...alert, status: 'completed' }),
    });
    expect(put.status).toBe(422);
    expect((await theAlert(requester)).status).toBe('requested');
  });
});
