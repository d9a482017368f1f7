import type { WithId } from '@imaging/fhir';
import { badRequest, notFound, OutcomeError, unavailable } from '@imaging/fhir';
import { CASE_TRAIL_PARAM, isTraceId } from '@imaging/fhir-http';
import { FLOW_SCOPES } from '@imaging/messaging';
import type { Resource } from '@medplum/fhirtypes';
import { Hono } from 'hono';
import type { CaseTrails } from '../domain/case-timeline.ts';
import { buildCaseTimeline, readableAt } from '../domain/case-timeline.ts';
import type { FlowTopology, TrailSource } from '../domain/ports.ts';
import { HUB_NODE } from '../domain/ports.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { casePage } from '../views/case.ts';
import { resourcePage } from '../views/pages.ts';
import { htmlPage } from './http.ts';
import { requireViewer, viewerInfo } from './session.ts';

/** One case's story across regions (`/cases/<correlation id>`) and its stored resources: scope `flow/case`. */
export function caseRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // The "follow one order" form: to the case's own address.
  app.get('/', (c) => {
    const id = c.req.query(CASE_TRAIL_PARAM)?.trim();
    return c.redirect(`/cases/${encodeURIComponent(caseId(id))}`, 303);
  });

  app.get('/:case', requireViewer(FLOW_SCOPES.case), async (c) => {
    const correlationId = caseId(c.req.param('case'));
    const topology = topologyOf(deps);
    const read = (source: TrailSource) => deps.trails.trail(source, correlationId).catch(() => undefined);
    const [hub, ...regions] = await Promise.all([
      read({ kind: 'hub' }),
      ...topology.regions.map((region) => read({ kind: 'region', region })),
    ]);
    const trails: CaseTrails = {
      correlationId,
      hub,
      regions: topology.regions.map((region, i) => ({ region, resources: regions[i] })),
    };
    return htmlPage(
      c,
      casePage(buildCaseTimeline(trails, topology), viewerInfo(c.var.viewer), new URL(c.req.url).pathname),
    );
  });

  app.get('/:case/resources/:source/:type/:id/_history/:version', requireViewer(FLOW_SCOPES.case), async (c) => {
    const correlationId = caseId(c.req.param('case'));
    const { source, type, id, version } = c.req.param();
    const topology = topologyOf(deps);
    const region = topology.regions.find((r) => r.id === source);
    if (source !== HUB_NODE && !region) throw new OutcomeError(notFound(`A service called ${source}`));
    const trail: WithId<Resource>[] = await deps.trails.trail(
      region ? { kind: 'region', region } : { kind: 'hub' },
      correlationId,
    );
    const resource = trail.find(
      (r) => r.resourceType === type && r.id === id && (r.meta?.versionId ?? '1') === version,
    );
    if (!resource) throw new OutcomeError(notFound(`${type}/${id} version ${version} in case ${correlationId}`));
    const base = region ? region.fhirBase : `${topology.hubUrl}/fhir`;
    return htmlPage(
      c,
      resourcePage(
        correlationId,
        { source, type, id, version, url: readableAt(base, resource, correlationId) },
        resource,
        viewerInfo(c.var.viewer),
        new URL(c.req.url).pathname,
      ),
    );
  });
  return app;
}

function caseId(value: string | undefined): string {
  if (!isTraceId(value))
    throw new OutcomeError(
      badRequest('A case is named by its correlation id: 1-128 of A-Z a-z 0-9 - . _ :', CASE_TRAIL_PARAM),
    );
  return value;
}

function topologyOf(deps: AppDeps): FlowTopology {
  const state = deps.live.state();
  if (!state) throw new OutcomeError(unavailable('The flow view has not been able to read the hub’s directory yet'));
  return state.topology;
}
