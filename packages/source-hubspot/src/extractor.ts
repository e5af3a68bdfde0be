import { DativoError, throwIfAborted, type ConfiguredStream, type ExtractMessage, type Extractor, type RunContext, type StreamDescriptor } from '@dativo/core';
import { hubspotApi, type Api } from './api.js';
import { ASSOCIATION_FIELDS, Catalog, objectSchema, OWNER_FIELDS, PIPELINE_FIELDS, STAGE_FIELDS, type HubSpotProperty, type ObjectInfo } from './catalog.js';
import type { HubSpotConfig } from './config.js';
import { hubspotHead } from './connector.js';
import { readAssociations, readOwners, readPipelines } from './extras.js';
import { readObjectStream } from './objects.js';

export { hubspotError } from './api.js';
export { DELETED_AT_COLUMN, DELETED_COLUMN, HISTORY_COLUMN, propertyType } from './catalog.js';
export { chunkProperties } from './objects.js';

async function properties(a: Api, object: ObjectInfo): Promise<HubSpotProperty[]> {
  const res = await a.call(`GET /crm/v3/properties/${object.path}`, (c, o) => c.crm.properties.coreApi.getAll(object.path, undefined, undefined, o), { scope: object.scope });
  return (res.results ?? []) as HubSpotProperty[];
}

export function hubspotExtractor(): Extractor<HubSpotConfig> {
  return {
    ...hubspotHead,

    async check(config, ctx) {
      if (Number.isNaN(Date.parse(config.start_date))) throw new DativoError(`start_date: expected an ISO date, got '${config.start_date}'`, { kind: 'config', code: 'HUBSPOT_START_DATE' });
      const a = hubspotApi(config, ctx);
      const catalog = new Catalog(a, config);
      for (const name of config.objects) {
        const object = await catalog.object(name, ctx);
        await a.call(`GET /crm/v3/objects/${object.path}`, (c, o) => c.crm.objects.basicApi.getPage(object.path, 1, undefined, undefined, undefined, undefined, undefined, o), { scope: object.scope });
      }
    },

    /**
     * The configured objects and the account's custom object types, each typed from the properties
     * API; owners; pipelines and their stages; associations between each pair of configured objects.
     */
    async discover(config, ctx) {
      const a = hubspotApi(config, ctx);
      const catalog = new Catalog(a, config);
      const objects: ObjectInfo[] = [];
      for (const name of config.objects) objects.push(await catalog.object(name, ctx));
      if (config.custom_objects) for (const c of await catalog.customTypes(ctx, false)) if (!objects.some((o) => o.name === c.name)) objects.push(c);
      const out: StreamDescriptor[] = [];
      for (const object of objects) {
        out.push({ name: object.name, schema: objectSchema(await properties(a, object), config.properties_with_history.length > 0), primaryKey: ['id'], cursorFields: ['updatedAt'], syncModes: ['full_refresh', 'incremental'] });
      }
      out.push({ name: 'owners', schema: OWNER_FIELDS, primaryKey: ['id'], syncModes: ['full_refresh'] });
      out.push({ name: 'pipelines', schema: PIPELINE_FIELDS, primaryKey: ['object_type', 'id'], syncModes: ['full_refresh'] });
      out.push({ name: 'pipeline_stages', schema: STAGE_FIELDS, primaryKey: ['object_type', 'pipeline_id', 'id'], syncModes: ['full_refresh'] });
      const configured = objects.filter((o) => config.objects.includes(o.name));
      for (let i = 0; i < configured.length; i++) {
        for (let j = i + 1; j < configured.length; j++) {
          out.push({ name: `associations_${(configured[i] as ObjectInfo).name}_${(configured[j] as ObjectInfo).name}`, schema: ASSOCIATION_FIELDS, primaryKey: ['from_id', 'to_id', 'category', 'type_id'], syncModes: ['full_refresh'] });
        }
      }
      return out;
    },

    async *read(config, request, ctx) {
      const a = hubspotApi(config, ctx);
      const catalog = new Catalog(a, config);
      for (const stream of request.streams) yield* readStream(a, catalog, config, stream, ctx);
    },
  };
}

async function* readStream(a: Api, catalog: Catalog, config: HubSpotConfig, stream: ConfiguredStream, ctx: RunContext): AsyncGenerator<ExtractMessage> {
  throwIfAborted(ctx.signal);
  const kind = await catalog.stream(stream.name, ctx);
  switch (kind.kind) {
    case 'owners':
      return yield* readOwners(a, config, stream, ctx);
    case 'pipelines':
      return yield* readPipelines(a, config, stream, kind.stages, ctx);
    case 'associations':
      return yield* readAssociations(a, config, kind.from, kind.to, stream, ctx);
    case 'object': {
      const known = new Map((await properties(a, kind.object)).map((p) => [p.name, p]));
      return yield* readObjectStream(a, config, kind.object, known, stream, ctx);
    }
  }
}
