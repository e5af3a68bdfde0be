import { StreamBatches } from '@dativo/api-kit';
import { DativoError, parseCheckpointState, throwIfAborted, type ConfiguredStream, type ExtractMessage, type JsonValue, type RunContext } from '@dativo/core';
import { z } from 'zod';
import type { Api } from './api.js';
import { pipelineObjects, STANDARD_OBJECTS, type ObjectInfo } from './catalog.js';
import type { HubSpotConfig } from './config.js';

/** A page cursor, and which half of a two-part read (live, then archived owners) it belongs to. */
const cursorSchema = z.object({ v: z.literal(1), part: z.number().int().min(0), after: z.string().nullable() });
type Cursor = z.infer<typeof cursorSchema>;

const toDate = (v: Date | string | undefined): Date | null => (v === undefined ? null : v instanceof Date ? v : new Date(v));

function rejected(stream: string, what: string, id: string, raw: unknown, problem: { column: string; message: string }): ExtractMessage {
  return {
    kind: 'rejected',
    stream,
    raw: raw as JsonValue,
    error: new DativoError(`${what} ${id}: '${problem.column}' ${problem.message}`, { kind: 'validation', code: 'HUBSPOT_BAD_RECORD' }),
    context: { id },
  };
}

/** Owners, live then archived (`archived: true` marks the ones removed from the account). */
export async function* readOwners(a: Api, config: HubSpotConfig, stream: ConfiguredStream, ctx: RunContext): AsyncGenerator<ExtractMessage> {
  let state: Cursor = parseCheckpointState(cursorSchema, stream.resumeFrom?.state, { connector: 'hubspot', stream: stream.name }) ?? { v: 1, part: 0, after: null };
  const resumed = stream.resumeFrom !== undefined && state.part < 2;
  if (state.part >= 2) state = { v: 1, part: 0, after: null };
  yield { kind: 'start', stream: stream.name, resumed };
  const batches = new StreamBatches(stream.name, stream.schema, ctx.batchLimits);
  for (; state.part < 2; state = { v: 1, part: state.part + 1, after: null }) {
    const archived = state.part === 1;
    for (;;) {
      throwIfAborted(ctx.signal);
      const after = state.after;
      const page = await a.call('GET /crm/v3/owners', (c, o) => c.crm.owners.ownersApi.getPage(undefined, after ?? undefined, Math.min(500, config.page_size * 5), archived, o), { scope: 'crm.objects.owners.read' });
      for (const o of page.results ?? []) {
        const row = { id: o.id, email: o.email ?? null, firstName: o.firstName ?? null, lastName: o.lastName ?? null, userId: o.userId ?? null, userIdIncludingInactive: o.userIdIncludingInactive ?? null, type: o.type ?? null, teams: (o.teams ?? []).map((t) => ({ id: t.id, name: t.name, primary: t.primary })), archived: o.archived ?? archived, createdAt: toDate(o.createdAt), updatedAt: toDate(o.updatedAt) };
        const problem = batches.append(row);
        if (problem) yield rejected(stream.name, 'owner', o.id, { id: o.id, email: o.email ?? null }, problem);
      }
      const next = page.paging?.next?.after ?? null;
      state = { ...state, after: next };
      if (next === null) break;
      if (batches.due) yield* batches.checkpoint(state);
    }
  }
  yield* batches.checkpoint(state);
}

/** Pipelines of deals and tickets, or their stages (one row per stage, with its pipeline). */
export async function* readPipelines(a: Api, config: HubSpotConfig, stream: ConfiguredStream, stages: boolean, ctx: RunContext): AsyncGenerator<ExtractMessage> {
  yield { kind: 'start', stream: stream.name, resumed: false };
  const batches = new StreamBatches(stream.name, stream.schema, ctx.batchLimits);
  for (const objectType of pipelineObjects(config)) {
    throwIfAborted(ctx.signal);
    const res = await a.call(`GET /crm/v3/pipelines/${objectType}`, (c, o) => c.crm.pipelines.pipelinesApi.getAll(objectType, o), { scope: STANDARD_OBJECTS[objectType].scope });
    for (const p of res.results ?? []) {
      const rows = stages
        ? (p.stages ?? []).map((s) => ({ object_type: objectType, pipeline_id: p.id, id: s.id, label: s.label, displayOrder: s.displayOrder, metadata: s.metadata ?? {}, archived: s.archived, createdAt: toDate(s.createdAt), updatedAt: toDate(s.updatedAt) }))
        : [{ object_type: objectType, id: p.id, label: p.label, displayOrder: p.displayOrder, archived: p.archived, createdAt: toDate(p.createdAt), updatedAt: toDate(p.updatedAt) }];
      for (const row of rows) {
        const problem = batches.append(row);
        if (problem) yield rejected(stream.name, stages ? 'pipeline stage' : 'pipeline', row.id, row, problem);
      }
    }
  }
  yield* batches.checkpoint({ v: 1, part: 1, after: null });
}

interface AssociationResult {
  _from?: { id: string };
  from?: { id: string };
  to?: Array<{ toObjectId: string | number; associationTypes?: Array<{ category: string; typeId: number; label?: string | null }> }>;
  paging?: { next?: { after?: string } };
}

/**
 * Associations from every `from` object to `to` objects (v4, with labels): the `from` ids page by
 * page through the list endpoint, each page's associations in one batch read (and any object with
 * more than a page of them followed up by its own cursor). One row per object pair and type.
 */
export async function* readAssociations(a: Api, config: HubSpotConfig, from: ObjectInfo, to: ObjectInfo, stream: ConfiguredStream, ctx: RunContext): AsyncGenerator<ExtractMessage> {
  let state: Cursor = parseCheckpointState(cursorSchema, stream.resumeFrom?.state, { connector: 'hubspot', stream: stream.name }) ?? { v: 1, part: 0, after: null };
  const resumed = stream.resumeFrom !== undefined && state.part === 0;
  if (state.part > 0) state = { v: 1, part: 0, after: null };
  yield { kind: 'start', stream: stream.name, resumed };
  const batches = new StreamBatches(stream.name, stream.schema, ctx.batchLimits);
  const endpoint = `POST /crm/v4/associations/${from.path}/${to.path}/batch/read`;
  for (;;) {
    throwIfAborted(ctx.signal);
    const after = state.after;
    const page = await a.call(`GET /crm/v3/objects/${from.path}`, (c, o) => c.crm.objects.basicApi.getPage(from.path, config.page_size, after ?? undefined, ['hs_object_id'], undefined, undefined, false, o), { scope: from.scope });
    let inputs: Array<{ id: string; after?: string }> = (page.results ?? []).map((r) => ({ id: r.id }));
    while (inputs.length) {
      const res = await a.call(endpoint, (c, o) => c.crm.associations.v4.batchApi.getPage(from.path, to.path, { inputs: inputs as never }, o), { scope: to.scope });
      const more: Array<{ id: string; after: string }> = [];
      for (const r of (res.results ?? []) as unknown as AssociationResult[]) {
        const fromId = (r._from ?? r.from)?.id;
        if (fromId === undefined) throw new DativoError(`${endpoint}: a result without its 'from' object`, { kind: 'transient', code: 'BAD_ANSWER' });
        for (const t of r.to ?? []) {
          for (const type of t.associationTypes ?? []) {
            const row = { from_id: String(fromId), to_id: String(t.toObjectId), category: type.category, type_id: BigInt(type.typeId), label: type.label ?? null };
            const problem = batches.append(row);
            if (problem) yield rejected(stream.name, 'association', `${row.from_id}→${row.to_id}`, { ...row, type_id: type.typeId }, problem);
          }
        }
        if (r.paging?.next?.after) more.push({ id: String(fromId), after: r.paging.next.after });
      }
      // Objects with no associations come back as errors of a 207 answer: nothing to write.
      inputs = more;
    }
    const next = page.paging?.next?.after ?? null;
    state = { ...state, after: next };
    if (next === null) break;
    if (batches.due) yield* batches.checkpoint(state);
  }
  yield* batches.checkpoint({ v: 1, part: 1, after: null });
}
