import type { Communication, Task } from '@medplum/fhirtypes';
import { ODS_SYSTEM, SYSTEMS, taskCodeConcept } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import type { AlertAuthorityFacts } from './alert-authority.ts';
import { alertCopyRefusals, alertMessageRefusals, isAlertMessage } from './alert-authority.ts';
import { buildMessage } from './build.ts';
import { ALERT_ACKNOWLEDGED, ALERT_ACTION_RECORDED, ALERT_COPIED, TASK_UPDATE } from './events.ts';
import { checkMessageAuthority } from './authority.ts';
import { parseMessage } from './parse.ts';

const SERVES: Record<string, string> = { N81001: 'imaging-north', RM1: 'imaging-midlands', RS1: 'imaging-south' };

function acknowledgement(overrides: Partial<Task> = {}): Task {
  return {
    resourceType: 'Task',
    identifier: [{ system: SYSTEMS.task, value: 'RM1-REP-1-acknowledge' }],
    status: 'in-progress',
    intent: 'order',
    code: taskCodeConcept('acknowledge-result'),
    focus: { type: 'DiagnosticReport', identifier: { system: SYSTEMS.report, value: 'RM1-REP-1' } },
    basedOn: [{ type: 'ServiceRequest', identifier: { system: SYSTEMS.placerOrder, value: 'N81001-000123' } }],
    requester: { type: 'Organization', identifier: { system: ODS_SYSTEM, value: 'RM1' } },
    owner: { type: 'Organization', identifier: { system: ODS_SYSTEM, value: 'N81001' } },
    ...overrides,
  };
}

function message(
  task: Task | Communication,
  event = ALERT_ACKNOWLEDGED,
  from = 'imaging-north',
  to = 'imaging-midlands',
) {
  return parseMessage(
    buildMessage({
      event,
      timestamp: '2026-11-23T10:00:00Z',
      sourceService: from,
      destinationService: to,
      focus: task,
      resources: [],
      identifierOf: () => undefined,
    }),
  );
}

const facts = (overrides: Partial<AlertAuthorityFacts> = {}): AlertAuthorityFacts => ({
  sender: 'imaging-north',
  receiver: 'imaging-midlands',
  serviceOf: async (ods) => SERVES[ods],
  ...overrides,
});

const texts = async (...args: Parameters<typeof alertMessageRefusals>) =>
  (await alertMessageRefusals(...args)).map((r) => `${r.expression}: ${r.text}`);

describe('who may tell a performing region about its alert', () => {
  it("lets the requester's region tell the performer's, at the hub and at a receiver with its watch", async () => {
    expect(await texts(message(acknowledgement()), facts())).toEqual([]);
    const stored = { requester: 'N81001', performer: 'RM1', peer: 'imaging-north' };
    expect(await texts(message(acknowledgement(), ALERT_ACTION_RECORDED), facts({ stored }))).toEqual([]);
    expect(isAlertMessage(message(acknowledgement()))).toBe(true);
  });

  it('refuses any other region, naming the element', async () => {
    const fromSouth = message(acknowledgement(), ALERT_ACKNOWLEDGED, 'imaging-south');
    expect(await texts(fromSouth, facts({ sender: 'imaging-south' }))).toEqual([
      'Bundle.entry[1].resource.basedOn: The requester N81001 is not served by imaging-south',
    ]);
  });

  it('refuses an alert the sender claims for its own order when the stored watch says otherwise', async () => {
    const lying = acknowledgement({
      basedOn: [{ type: 'ServiceRequest', identifier: { system: SYSTEMS.placerOrder, value: 'RS1-000123' } }],
    });
    const stored = { requester: 'N81001', performer: 'RM1', peer: 'imaging-north' };
    expect(await texts(message(lying, ALERT_ACKNOWLEDGED), facts({ sender: 'imaging-south', stored }))).toEqual([
      'Bundle.entry[1].resource.basedOn: This alert is shared with imaging-north, not imaging-south',
    ]);
    expect(await texts(message(lying), facts({ stored }))).toEqual([
      'Bundle.entry[1].resource.basedOn: The order here was requested by N81001, not RS1',
    ]);
  });

  it('refuses a Task that is not an acknowledgement, or whose report is not the performer’s', async () => {
    const fulfil = acknowledgement({ code: taskCodeConcept('fulfil') });
    expect(await texts(message(fulfil), facts())).toEqual([
      'Bundle.entry[1].resource.code: alert-acknowledged is about an acknowledgement Task (code acknowledge-result)',
    ]);
    const otherReport = acknowledgement({
      focus: { type: 'DiagnosticReport', identifier: { system: SYSTEMS.report, value: 'RS1-REP-9' } },
    });
    expect(await texts(message(otherReport), facts())).toEqual([
      "Bundle.entry[1].resource.focus: The alert's focus is a report in its performer's namespace (the Task's requester)",
    ]);
    expect(isAlertMessage(message(acknowledgement(), TASK_UPDATE))).toBe(false);
  });
});

/** A copy of N81001's alert on RM1's report, for the discharged patient's practice S81001 in the south. */
function copy(overrides: Partial<Communication> = {}): Communication {
  return {
    resourceType: 'Communication',
    identifier: [{ system: SYSTEMS.communication, value: 'RM1-REP-1-acknowledge-gp-copy' }],
    status: 'completed',
    basedOn: [
      { type: 'Task', identifier: { system: SYSTEMS.task, value: 'RM1-REP-1-acknowledge' } },
      { type: 'ServiceRequest', identifier: { system: SYSTEMS.placerOrder, value: 'N81001-000123' } },
    ],
    about: [{ type: 'DiagnosticReport', identifier: { system: SYSTEMS.report, value: 'RM1-REP-1' } }],
    recipient: [{ type: 'Organization', identifier: { system: ODS_SYSTEM, value: 'S81001' } }],
    payload: [{ contentString: 'Cancer alert on an imaging report' }],
    ...overrides,
  };
}

describe("who may copy an alert to a discharged patient's GP practice", () => {
  const SERVES_SOUTH: Record<string, string> = { ...SERVES, S81001: 'imaging-south' };
  const toSouth = (overrides: Partial<AlertAuthorityFacts> = {}) =>
    facts({ receiver: 'imaging-south', serviceOf: async (ods) => SERVES_SOUTH[ods], ...overrides });
  const copyTexts = async (...args: Parameters<typeof alertCopyRefusals>) =>
    (await alertCopyRefusals(...args)).map((r) => `${r.expression}: ${r.text}`);
  const sent = (c: Communication, from = 'imaging-north') => message(c, ALERT_COPIED, from, 'imaging-south');

  it("lets the requester's region send it to the practice's region, as one rule with the others", async () => {
    expect(await copyTexts(sent(copy()), toSouth())).toEqual([]);
    expect(isAlertMessage(sent(copy()))).toBe(true);
    const authority = await checkMessageAuthority(sent(copy()), toSouth());
    expect(authority).toEqual({ authorised: true, role: 'requester' });
  });

  it('refuses another sender, another practice, and a copy that names no alert, order, report or single practice', async () => {
    expect(await copyTexts(sent(copy(), 'imaging-midlands'), toSouth({ sender: 'imaging-midlands' }))).toEqual([
      'Bundle.entry[1].resource.basedOn: The requester N81001 is not served by imaging-midlands',
    ]);
    const elsewhere = copy({
      recipient: [{ type: 'Organization', identifier: { system: ODS_SYSTEM, value: 'N81001' } }],
    });
    expect(await copyTexts(sent(elsewhere), toSouth())).toEqual([
      'Bundle.entry[1].resource.recipient: The practice N81001 is not served by imaging-south',
    ]);
    const bare = copy({ basedOn: undefined, about: undefined, recipient: undefined });
    expect(await copyTexts(sent(bare), toSouth())).toEqual([
      'Bundle.entry[1].resource.basedOn: An alert is on exactly one order (basedOn, by placer order number)',
      'Bundle.entry[1].resource.basedOn: A copy names the alert it copies (basedOn, a Task by identifier)',
      'Bundle.entry[1].resource.about: A copy is about one report, by its identifier',
      'Bundle.entry[1].resource.recipient: A copy goes to one GP practice, by its ODS code',
      'Bundle.entry[1].resource.basedOn: The requester (none) is not served by imaging-north',
    ]);
    const refused = await checkMessageAuthority(sent(elsewhere), toSouth());
    expect(refused.authorised).toBe(false);
  });

  it('lets it name as its sender an organisation the sending region serves', async () => {
    const fromRequester = copy({
      sender: { type: 'Organization', identifier: { system: ODS_SYSTEM, value: 'N81001' } },
    });
    expect(await copyTexts(sent(fromRequester), toSouth())).toEqual([]);
  });

  it('refuses an identifier other than the copy of the alert it names: one the receiver uses for its own', async () => {
    const raised = copy({ identifier: [{ system: SYSTEMS.communication, value: 'RM1-REP-1-acknowledge-raised' }] });
    expect(await copyTexts(sent(raised), toSouth())).toEqual([
      "Bundle.entry[1].resource.identifier: A copy's identifier is its alert's with -gp-copy (RM1-REP-1-acknowledge-gp-copy)",
    ]);
    const none = copy({ identifier: undefined });
    expect(await copyTexts(sent(none), toSouth())).toEqual([
      "Bundle.entry[1].resource.identifier: A copy's identifier is its alert's with -gp-copy (RM1-REP-1-acknowledge-gp-copy)",
    ]);
    const refused = await checkMessageAuthority(sent(raised), toSouth());
    expect(refused.authorised).toBe(false);
  });

  it('refuses a copy whose alert is not the one on the report it is about', async () => {
    const alertOn = (task: string) =>
      copy({
        identifier: [{ system: SYSTEMS.communication, value: `${task}-gp-copy` }],
        basedOn: [
          { type: 'Task', identifier: { system: SYSTEMS.task, value: task } },
          { type: 'ServiceRequest', identifier: { system: SYSTEMS.placerOrder, value: 'N81001-000123' } },
        ],
      });
    for (const task of ['RM1-REP-2-acknowledge', 'RM1-REP-1-watch', 'RM1-REP-1-breach']) {
      expect(await copyTexts(sent(alertOn(task)), toSouth())).toEqual([
        'Bundle.entry[1].resource.basedOn: A copy names the alert on its report (RM1-REP-1-acknowledge)',
      ]);
    }
  });

  it('refuses a sender the sending region does not serve, or one named by no ODS code', async () => {
    const practice = copy({ sender: { type: 'Organization', identifier: { system: ODS_SYSTEM, value: 'S81001' } } });
    expect(await copyTexts(sent(practice), toSouth())).toEqual([
      'Bundle.entry[1].resource.sender: The sender S81001 is not served by imaging-north',
    ]);
    const gateway = copy({
      sender: { type: 'Device', identifier: { system: SYSTEMS.serviceId, value: 'imaging-south' } },
    });
    expect(await copyTexts(sent(gateway), toSouth())).toEqual([
      'Bundle.entry[1].resource.sender: The sender (no ODS code) is not served by imaging-north',
    ]);
    const refused = await checkMessageAuthority(sent(practice), toSouth());
    expect(refused).toMatchObject({ authorised: false, refusal: { issue: [{ code: 'forbidden' }] } });
  });
});
