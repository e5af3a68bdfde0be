import { objectForStream } from '@dativo/api-kit';
import { DativoError, type DataType, type FieldSpec, type RunContext } from '@dativo/core';
import type { Api } from './api.js';
import { HUBSPOT_OBJECTS, type HubSpotConfig, type HubSpotObject } from './config.js';

export const DELETED_COLUMN = '_deleted';
export const DELETED_AT_COLUMN = '_deleted_at';
export const HISTORY_COLUMN = 'propertiesWithHistory';

/** An object type as the connector reads it. */
export interface ObjectInfo {
  /** The name streams and `objects` use (`contacts`, `cars`). */
  name: string;
  /** How request paths name it (the standard name, or a custom type's id `2-…`). */
  path: string;
  /** The last-modified property it is searched by. */
  lastModified: string;
  /** The read scope, named when HubSpot answers 403. */
  scope: string;
  custom: boolean;
}

const STANDARD: Record<HubSpotObject, ObjectInfo> = {
  contacts: { name: 'contacts', path: 'contacts', lastModified: 'lastmodifieddate', scope: 'crm.objects.contacts.read', custom: false },
  companies: { name: 'companies', path: 'companies', lastModified: 'hs_lastmodifieddate', scope: 'crm.objects.companies.read', custom: false },
  deals: { name: 'deals', path: 'deals', lastModified: 'hs_lastmodifieddate', scope: 'crm.objects.deals.read', custom: false },
  tickets: { name: 'tickets', path: 'tickets', lastModified: 'hs_lastmodifieddate', scope: 'tickets', custom: false },
};
const TYPE_IDS: Record<string, HubSpotObject> = { '0-1': 'contacts', '0-2': 'companies', '0-3': 'deals', '0-5': 'tickets' };
export const SCHEMAS_SCOPE = 'crm.schemas.custom.read';

export interface HubSpotProperty {
  name: string;
  type: string;
  fieldType?: string;
}

/** A HubSpot property type as a column type; property values arrive as strings. */
export function propertyType(p: HubSpotProperty): DataType {
  if (p.name === 'hs_object_id') return { kind: 'int64' };
  switch (p.type) {
    case 'number':
      return { kind: 'float64' };
    case 'bool':
      return { kind: 'boolean' };
    case 'date':
      return { kind: 'date' };
    case 'datetime':
      return { kind: 'timestamp', withTimeZone: true };
    default:
      return { kind: 'string' };
  }
}

/** The base fields every object has, around its properties. */
export const BASE_FIELDS: FieldSpec[] = [
  { name: 'id', type: { kind: 'string' }, nullable: false },
  { name: 'createdAt', type: { kind: 'timestamp', withTimeZone: true }, nullable: true },
  { name: 'updatedAt', type: { kind: 'timestamp', withTimeZone: true }, nullable: true },
  { name: 'archived', type: { kind: 'boolean' }, nullable: true },
  { name: 'archivedAt', type: { kind: 'timestamp', withTimeZone: true }, nullable: true },
];
const MARK_FIELDS: FieldSpec[] = [
  { name: DELETED_COLUMN, type: { kind: 'boolean' }, nullable: true },
  { name: DELETED_AT_COLUMN, type: { kind: 'timestamp', withTimeZone: true }, nullable: true },
];

export function objectSchema(props: HubSpotProperty[], withHistory: boolean): FieldSpec[] {
  const base = new Set(BASE_FIELDS.map((f) => f.name));
  return [
    ...BASE_FIELDS,
    ...props.filter((p) => !base.has(p.name)).map((p): FieldSpec => ({ name: p.name, type: propertyType(p), nullable: true })),
    ...(withHistory ? [{ name: HISTORY_COLUMN, type: { kind: 'json' }, nullable: true } satisfies FieldSpec] : []),
    ...MARK_FIELDS,
  ];
}

const ts = { kind: 'timestamp', withTimeZone: true } as const;
const text = { kind: 'string' } as const;
const req = (name: string, type: DataType): FieldSpec => ({ name, type, nullable: false });
const opt = (name: string, type: DataType): FieldSpec => ({ name, type, nullable: true });

export const OWNER_FIELDS: FieldSpec[] = [req('id', text), opt('email', text), opt('firstName', text), opt('lastName', text), opt('userId', { kind: 'int64' }), opt('userIdIncludingInactive', { kind: 'int64' }), opt('type', text), opt('teams', { kind: 'json' }), opt('archived', { kind: 'boolean' }), opt('createdAt', ts), opt('updatedAt', ts)];
export const PIPELINE_FIELDS: FieldSpec[] = [req('object_type', text), req('id', text), opt('label', text), opt('displayOrder', { kind: 'int64' }), opt('archived', { kind: 'boolean' }), opt('createdAt', ts), opt('updatedAt', ts)];
export const STAGE_FIELDS: FieldSpec[] = [req('object_type', text), req('pipeline_id', text), req('id', text), opt('label', text), opt('displayOrder', { kind: 'int64' }), opt('metadata', { kind: 'json' }), opt('archived', { kind: 'boolean' }), opt('createdAt', ts), opt('updatedAt', ts)];
export const ASSOCIATION_FIELDS: FieldSpec[] = [req('from_id', text), req('to_id', text), req('category', text), req('type_id', { kind: 'int64' }), opt('label', text)];

/** What one stream reads. */
export type StreamKind =
  | { kind: 'object'; object: ObjectInfo }
  | { kind: 'owners' }
  | { kind: 'pipelines'; stages: boolean }
  | { kind: 'associations'; from: ObjectInfo; to: ObjectInfo };

/** The account's object types, resolved once per run: standard names without a request, custom ones from the schemas API. */
export class Catalog {
  private custom: ObjectInfo[] | undefined;

  constructor(
    private readonly api: Api,
    private readonly config: HubSpotConfig,
  ) {}

  /** The custom object types (empty when the token may not list them and `required` is false). */
  async customTypes(ctx: RunContext, required: boolean): Promise<ObjectInfo[]> {
    if (this.custom) return this.custom;
    try {
      const res = await this.api.call('GET /crm-object-schemas/v3/schemas', (c, o) => c.crm.schemas.coreApi.getAll(undefined, o), { scope: SCHEMAS_SCOPE });
      this.custom = (res.results ?? []).map((s) => ({ name: s.name, path: s.objectTypeId ?? s.fullyQualifiedName ?? s.name, lastModified: 'hs_lastmodifieddate', scope: 'crm.objects.custom.read', custom: true }));
      this.aliases = new Map((res.results ?? []).flatMap((s) => [s.fullyQualifiedName, s.objectTypeId].filter((a): a is string => !!a).map((a) => [a, s.name] as const)));
    } catch (error) {
      if (required || !(DativoError.isInstance(error) && error.statusCode === 403)) throw error;
      ctx.log.warn(`custom object types are not listed: the token lacks the scope ${SCHEMAS_SCOPE}`);
      this.custom = [];
    }
    return this.custom;
  }

  private aliases = new Map<string, string>();

  /** An object type by name, fully qualified name or type id; a config error naming `objects` when the account has none such. */
  async object(name: string, ctx: RunContext): Promise<ObjectInfo> {
    const standard = (HUBSPOT_OBJECTS as readonly string[]).includes(name) ? (name as HubSpotObject) : TYPE_IDS[name];
    if (standard) return STANDARD[standard];
    const custom = await this.customTypes(ctx, true);
    const wanted = this.aliases.get(name) ?? name;
    const found = custom.find((c) => c.name === wanted);
    if (!found) {
      throw new DativoError(`objects: '${name}' is neither a standard HubSpot object (${HUBSPOT_OBJECTS.join(', ')}) nor a custom object type of this account (${custom.map((c) => c.name).join(', ') || 'it has none'})`, { kind: 'config', code: 'HUBSPOT_OBJECT' });
    }
    return found;
  }

  /** What a stream reads: owners, pipelines, pipeline_stages, `associations_<from>_<to>`, or an object type (v1's `hubspot_contacts` names `contacts`). */
  async stream(name: string, ctx: RunContext): Promise<StreamKind> {
    if (name === 'owners') return { kind: 'owners' };
    if (name === 'pipelines' || name === 'pipeline_stages') return { kind: 'pipelines', stages: name === 'pipeline_stages' };
    const association = /^associations_(.+)$/.exec(name);
    if (association) {
      const rest = association[1] as string;
      // Custom type names may hold underscores: the first split whose halves both name types.
      const split = (known: string[]): [string, string] | undefined => {
        for (let i = rest.indexOf('_'); i > 0; i = rest.indexOf('_', i + 1)) {
          const pair: [string, string] = [rest.slice(0, i), rest.slice(i + 1)];
          if (known.includes(pair[0]) && known.includes(pair[1])) return pair;
        }
        return undefined;
      };
      const named = [...HUBSPOT_OBJECTS, ...this.config.objects];
      const pair = split(named) ?? split([...named, ...(await this.customTypes(ctx, false)).map((c) => c.name)]);
      if (!pair) throw new DativoError(`stream '${name}': expected associations_<from>_<to> naming two object types (${named.join(', ')}, or a custom type)`, { kind: 'config', code: 'HUBSPOT_STREAM' });
      return { kind: 'associations', from: await this.object(pair[0], ctx), to: await this.object(pair[1], ctx) };
    }
    const known = [...HUBSPOT_OBJECTS, ...this.config.objects];
    return { kind: 'object', object: await this.object(objectForStream(name, this.config.objects, known, 'HubSpot', 'HUBSPOT_STREAM'), ctx) };
  }
}

/** Pipelines belong to deals and tickets: those of the configured objects, or both. */
export function pipelineObjects(config: HubSpotConfig): HubSpotObject[] {
  const chosen = config.objects.filter((o): o is HubSpotObject => o === 'deals' || o === 'tickets');
  return chosen.length ? chosen : ['deals', 'tickets'];
}

export { STANDARD as STANDARD_OBJECTS };
