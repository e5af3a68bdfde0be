import { DativoError, type RunContext, type Sink, type StreamDescriptor } from '@dativo/core';
import type { Catalog, LoadedTable } from './catalog/catalog.js';
import { createCatalog } from './catalog/factory.js';
import type { IcebergSinkConfig } from './config.js';
import { icebergSinkHead } from './connector.js';
import { FileIO } from './fileio.js';
import { CommitConflictError, type TableUpdate } from './metadata.js';
import { retryOnConflict } from './optimistic.js';
import { buildSpec, INGEST_DATE, parsePartitioning, sameSpec } from './partition.js';
import { planEvolution, schemaFromFields } from './schema.js';
import { currentSchema, defaultSpec, formatIdentifier, type TableIdentifier } from './types.js';
import { IcebergSinkWriter, withIngestDate } from './writer.js';

export interface IcebergTarget {
  io: FileIO;
  catalog: Catalog;
  id: TableIdentifier;
}

/** The catalog, file access and table identifier a target section describes. */
export function icebergTarget(config: IcebergSinkConfig, stream: string, ctx: Pick<RunContext, 'tenant' | 'cwd'> & Partial<Pick<RunContext, 'resilience'>>): IcebergTarget {
  if (config.file_format.toLowerCase() !== 'parquet') throw new DativoError(`target.file_format: Iceberg data files are written as parquet, got '${config.file_format}'`, { kind: 'config' });
  const s3 = config.connection?.s3;
  const io = new FileIO({
    cwd: ctx.cwd,
    ...(s3
      ? {
          s3: {
            region: s3.region ?? 'us-east-1',
            path_style_access: s3.path_style_access ?? false,
            ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
            ...(s3.access_key_id ? { access_key_id: s3.access_key_id } : {}),
            ...(s3.secret_access_key ? { secret_access_key: s3.secret_access_key } : {}),
            ...(s3.session_token ? { session_token: s3.session_token } : {}),
            ...(s3.part_size_mb ? { part_size_mb: s3.part_size_mb } : {}),
          },
        }
      : {}),
  });
  const catalog = createCatalog(config, io, ctx.resilience);
  const id = { namespace: (config.namespace ?? ctx.tenant).split('.').filter(Boolean), name: config.table ?? stream };
  return { io, catalog, id };
}

async function ensureNamespace(target: IcebergTarget, config: IcebergSinkConfig): Promise<void> {
  const { catalog, id } = target;
  if (await catalog.namespaceExists(id.namespace)) return;
  const create = config.create_namespace ?? catalog.kind === 'filesystem';
  if (!create) {
    throw new DativoError(`namespace '${id.namespace.join('.')}' does not exist in the ${catalog.description}; create it, or set target.create_namespace: true`, { kind: 'config', code: 'ICEBERG_NO_NAMESPACE' });
  }
  await catalog.createNamespace(id.namespace);
}

/** Loads the table, creating it from the stream's schema and the partitioning when it does not exist. */
async function loadOrCreate(target: IcebergTarget, config: IcebergSinkConfig, stream: StreamDescriptor, ctx: RunContext): Promise<LoadedTable> {
  const { catalog, id } = target;
  const existing = await catalog.loadTable(id);
  if (existing) return existing;
  const fields = withIngestDate(stream.schema, config.partitioning);
  const primaryKey = config.primary_key ?? stream.primaryKey ?? [];
  const { schema, lastColumnId } = schemaFromFields(fields, primaryKey);
  const { spec, lastPartitionId } = buildSpec(parsePartitioning(config.partitioning, 'target.partitioning'), schema, formatIdentifier(id));
  try {
    // A REST catalog places new tables itself. Only a location the job gives as a URI is sent: an
    // explicit `location`, or a warehouse URI (v1 `target.warehouse: s3://…`); a warehouse *name*
    // (`analytics`) selects the server's warehouse through /v1/config and is no path.
    const warehouse = config.warehouse ?? config.catalog?.warehouse;
    const location = config.location ?? (catalog.kind === 'rest' && warehouse && isUri(warehouse) ? catalog.defaultLocation(id) : undefined);
    const created = await catalog.createTable(id, { schema, lastColumnId, spec, lastPartitionId, ...(location ? { location } : {}), ...(config.properties ? { properties: config.properties } : {}) });
    ctx.log.info('created Iceberg table', { table: formatIdentifier(id), location: created.metadata.location, partitioning: spec.fields.map((f) => `${f.transform}(${f.name})`) });
    return created;
  } catch (error) {
    if (CommitConflictError.isInstance(error)) {
      const raced = await catalog.loadTable(id);
      if (raced) return raced;
    }
    throw error;
  }
}

/** Adds new columns and widens types as the source requires (one schema commit, retried on conflict). */
async function evolveSchema(target: IcebergTarget, table: LoadedTable, config: IcebergSinkConfig, stream: StreamDescriptor, ctx: RunContext): Promise<LoadedTable> {
  return retryOnConflict({ catalog: target.catalog, id: target.id, log: ctx.log, signal: ctx.signal, maxAttempts: 5 }, table, 'evolve the schema of', async (current) => {
    const m = current.metadata;
    const schema = currentSchema(m);
    const nextSchemaId = Math.max(...m.schemas.map((s) => s['schema-id'])) + 1;
    const source = withIngestDate(stream.schema, schema.fields.some((f) => f.name === INGEST_DATE) ? [INGEST_DATE] : []);
    const plan = planEvolution(schema, m['last-column-id'], source, `table ${formatIdentifier(target.id)}`, nextSchemaId);
    if (!plan.schema) return current;
    const updates: TableUpdate[] = [
      { action: 'add-schema', schema: plan.schema, 'last-column-id': plan.lastColumnId },
      { action: 'set-current-schema', 'schema-id': -1 },
    ];
    const evolved = await target.catalog.commitTable(target.id, current, [
      { type: 'assert-table-uuid', uuid: m['table-uuid'] },
      { type: 'assert-current-schema-id', 'current-schema-id': m['current-schema-id'] },
      { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': m['last-column-id'] },
    ], updates);
    ctx.log.info('evolved the Iceberg table schema', { table: formatIdentifier(target.id), changes: plan.changes });
    return evolved;
  });
}

/** The Iceberg sink's runtime (see icebergSink in connector.ts, which loads it when a job runs). */
export function icebergSinkRuntime(): Sink<IcebergSinkConfig> {
  return {
    ...icebergSinkHead,
    async check(config, ctx) {
      const target = icebergTarget(config, 'check', ctx);
      try {
        await ensureReachable(target, config);
      } finally {
        await target.catalog.close();
        await target.io.close();
      }
    },
    async open(config, stream, ctx) {
      const target = icebergTarget(config, stream.name, ctx);
      try {
        await ensureNamespace(target, config);
        let table = await loadOrCreate(target, config, stream, ctx);
        table = await evolveSchema(target, table, config, stream, ctx);
        const requested = buildSpec(parsePartitioning(config.partitioning, 'target.partitioning'), currentSchema(table.metadata), formatIdentifier(target.id)).spec;
        if (!sameSpec(defaultSpec(table.metadata), requested)) {
          ctx.log.warn('the table is partitioned differently from target.partitioning; writing with the table\'s partition spec', { table: formatIdentifier(target.id), table_spec: defaultSpec(table.metadata).fields.map((f) => `${f.transform}(${f.name})`) });
        }
        const schema = currentSchema(table.metadata);
        const constants = new Map<string, number>();
        if (schema.fields.some((f) => f.name === INGEST_DATE) && !stream.schema.some((f) => f.name === INGEST_DATE)) constants.set(INGEST_DATE, Math.floor(Date.now() / 86_400_000));
        const primaryKey = config.primary_key ?? stream.primaryKey;
        return new IcebergSinkWriter({ ...target, table, config, mode: config.mode ?? 'append', primaryKey, stream, constants, ctx });
      } catch (error) {
        await target.catalog.close().catch(() => undefined);
        await target.io.close().catch(() => undefined);
        throw error;
      }
    },
  };
}

async function ensureReachable(target: IcebergTarget, config: IcebergSinkConfig): Promise<void> {
  await target.catalog.namespaceExists(target.id.namespace);
  const warehouse = config.catalog?.warehouse ?? config.warehouse;
  if (warehouse && target.catalog.kind !== 'rest') await target.io.check(warehouse);
}

/** `s3://…`, `file:///…`, `/data/lake`: a location, not a warehouse name. */
function isUri(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text) || text.startsWith('/');
}
