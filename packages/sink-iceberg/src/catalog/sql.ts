import { classifyError, DativoError } from '@dativo/core';
import { parseJsonLossless, stringifyJsonLossless } from '../json.js';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { FileIO } from '../fileio.js';
import { applyUpdates, checkRequirements, CommitConflictError, newTableMetadata, withMetadataLog, type TableRequirement, type TableUpdate } from '../metadata.js';
import type { TableIdentifier, TableMetadata } from '../types.js';
import type { Catalog, CreateTableRequest, LoadedTable } from './catalog.js';
import { metadataVersion, nextMetadataFile, warehouseLocation } from './location.js';

export interface SqlCatalogOptions {
  /** `postgresql://user:password@host:5432/database`, or the parts below. */
  uri?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** `catalog_name` in the tables (Iceberg's JDBC catalog and PyIceberg call it the catalog's name). */
  name: string;
  warehouse: string;
  /** Create `iceberg_tables` / `iceberg_namespace_properties` when missing (default true). */
  initTables?: boolean;
}

const TABLES = '"iceberg_tables"';
const PROPS = '"iceberg_namespace_properties"';

/**
 * The SQL catalog on PostgreSQL, with the table layout of Iceberg's JDBC catalog and PyIceberg's
 * SqlCatalog (`iceberg_tables`, `iceberg_namespace_properties`), so those engines see the same
 * tables. A commit swaps `metadata_location` only if it still holds the version the commit was
 * based on.
 */
export class SqlCatalog implements Catalog {
  readonly kind = 'sql' as const;
  readonly description: string;
  private readonly pool: pg.Pool;
  private readonly io: FileIO;
  private readonly name: string;
  private readonly warehouse: string;
  private ready: Promise<void> | undefined;
  private readonly initTables: boolean;

  constructor(io: FileIO, options: SqlCatalogOptions) {
    this.io = io;
    this.name = options.name;
    this.warehouse = io.uri(options.warehouse);
    this.initTables = options.initTables ?? true;
    this.pool = new pg.Pool({
      ...(options.uri ? { connectionString: options.uri } : {}),
      ...(options.host ? { host: options.host } : {}),
      ...(options.port ? { port: options.port } : {}),
      ...(options.user ? { user: options.user } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.database ? { database: options.database } : {}),
      max: 2,
      connectionTimeoutMillis: 10_000,
    });
    this.pool.on('error', () => undefined); // idle client errors surface on the next query
    const where = options.uri ? safeUri(options.uri) : `postgresql://${options.host ?? 'localhost'}:${options.port ?? 5432}/${options.database ?? ''}`;
    this.description = `SQL catalog '${this.name}' on ${where}`;
  }

  defaultLocation(id: TableIdentifier): string {
    return warehouseLocation(this.warehouse, id);
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    await (this.ready ??= this.init());
    return this.run<R>(text, values);
  }

  private async run<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      const c = classifyError(error);
      const code = (error as { code?: string }).code;
      if (code === '28P01' || code === '28000') throw new DativoError(`${this.description}: authentication failed (${(error as Error).message})`, { kind: 'permanent', code: 'ICEBERG_CATALOG_AUTH', cause: error });
      if (c.kind === 'network' || code === 'ECONNREFUSED') throw new DativoError(`${this.description} is unreachable (${code ?? (error as Error).message})`, { kind: 'network', code: 'ICEBERG_CATALOG_UNREACHABLE', cause: error });
      throw new DativoError(`${this.description}: ${(error as Error).message}`, { kind: c.kind, ...(code ? { code } : {}), cause: error });
    }
  }

  private async init(): Promise<void> {
    if (!this.initTables) return;
    await this.run(
      `CREATE TABLE IF NOT EXISTS ${TABLES} (catalog_name VARCHAR(255) NOT NULL, table_namespace VARCHAR(255) NOT NULL, table_name VARCHAR(255) NOT NULL, metadata_location VARCHAR(1000), previous_metadata_location VARCHAR(1000), PRIMARY KEY (catalog_name, table_namespace, table_name))`,
      [],
    );
    await this.run(
      `CREATE TABLE IF NOT EXISTS ${PROPS} (catalog_name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, property_key VARCHAR(255) NOT NULL, property_value VARCHAR(1000), PRIMARY KEY (catalog_name, namespace, property_key))`,
      [],
    );
  }

  async namespaceExists(namespace: string[]): Promise<boolean> {
    const ns = namespace.join('.');
    const r = await this.query(`SELECT 1 FROM ${PROPS} WHERE catalog_name = $1 AND namespace = $2 UNION ALL SELECT 1 FROM ${TABLES} WHERE catalog_name = $1 AND table_namespace = $2 LIMIT 1`, [this.name, ns]);
    return (r.rowCount ?? 0) > 0;
  }

  async createNamespace(namespace: string[]): Promise<void> {
    await this.query(`INSERT INTO ${PROPS} (catalog_name, namespace, property_key, property_value) VALUES ($1, $2, 'exists', 'true') ON CONFLICT DO NOTHING`, [this.name, namespace.join('.')]);
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable | undefined> {
    const r = await this.query<{ metadata_location: string | null }>(`SELECT metadata_location FROM ${TABLES} WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3`, [this.name, id.namespace.join('.'), id.name]);
    const location = r.rows[0]?.metadata_location;
    if (!location) return undefined;
    const text = await this.io.readText(location);
    if (text === undefined) throw new DativoError(`${this.description}: table ${id.name} points to missing metadata ${location}`, { kind: 'permanent', code: 'ICEBERG_METADATA_MISSING' });
    return { metadata: parseJsonLossless(text) as TableMetadata, metadataLocation: location };
  }

  async createTable(id: TableIdentifier, request: CreateTableRequest): Promise<LoadedTable> {
    const location = request.location ?? this.defaultLocation(id);
    const metadata = newTableMetadata({ ...request, location });
    const file = nextMetadataFile(location, 0, randomUUID());
    await this.io.write(file, Buffer.from(stringifyJsonLossless(metadata, 2)));
    const r = await this.query(`INSERT INTO ${TABLES} (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location) VALUES ($1, $2, $3, $4, NULL) ON CONFLICT DO NOTHING`, [this.name, id.namespace.join('.'), id.name, file]);
    if ((r.rowCount ?? 0) === 0) {
      await this.io.delete(file);
      throw new CommitConflictError(`table ${id.name} was created concurrently`);
    }
    return { metadata, metadataLocation: file };
  }

  async commitTable(id: TableIdentifier, base: LoadedTable, requirements: TableRequirement[], updates: TableUpdate[]): Promise<LoadedTable> {
    checkRequirements(base.metadata, requirements);
    const next = withMetadataLog(applyUpdates(base.metadata, updates), base.metadataLocation, base.metadata['last-updated-ms']);
    const file = nextMetadataFile(next.location, metadataVersion(base.metadataLocation) + 1, randomUUID());
    await this.io.write(file, Buffer.from(stringifyJsonLossless(next, 2)));
    const r = await this.query(
      `UPDATE ${TABLES} SET metadata_location = $1, previous_metadata_location = $2 WHERE catalog_name = $3 AND table_namespace = $4 AND table_name = $5 AND metadata_location = $2`,
      [file, base.metadataLocation, this.name, id.namespace.join('.'), id.name],
    );
    if ((r.rowCount ?? 0) === 0) {
      await this.io.delete(file);
      throw new CommitConflictError(`table ${[...id.namespace, id.name].join('.')} changed since it was read`);
    }
    return { metadata: next, metadataLocation: file };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** A connection string without its password. */
export function safeUri(uri: string): string {
  return uri.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1@');
}
