import type { TableRequirement, TableUpdate } from '../metadata.js';
import type { IcebergSchema, PartitionSpec, TableIdentifier, TableMetadata } from '../types.js';

export interface LoadedTable {
  metadata: TableMetadata;
  /** The metadata file of this version (REST catalogs may not say). */
  metadataLocation: string | undefined;
}

export interface CreateTableRequest {
  location?: string;
  schema: IcebergSchema;
  lastColumnId: number;
  spec: PartitionSpec;
  lastPartitionId: number;
  properties?: Record<string, string>;
}

/**
 * Where a table's current metadata lives and how it changes atomically. Every commit names its
 * requirements; when they no longer hold the catalog throws CommitConflictError (reload and retry),
 * and when the outcome is unknown, CommitStateUnknownError.
 */
export interface Catalog {
  readonly kind: 'rest' | 'sql' | 'filesystem';
  /** For messages: `REST catalog http://…`, `SQL catalog dativo on postgres://host/db`. */
  readonly description: string;
  namespaceExists(namespace: string[]): Promise<boolean>;
  createNamespace(namespace: string[]): Promise<void>;
  loadTable(id: TableIdentifier): Promise<LoadedTable | undefined>;
  createTable(id: TableIdentifier, request: CreateTableRequest): Promise<LoadedTable>;
  commitTable(id: TableIdentifier, base: LoadedTable, requirements: TableRequirement[], updates: TableUpdate[]): Promise<LoadedTable>;
  /** Where a new table goes when the catalog does not decide it. */
  defaultLocation(id: TableIdentifier): string;
  close(): Promise<void>;
}
