import { DativoError } from '@dativo/core';
import { parseJsonLossless, stringifyJsonLossless } from '../json.js';
import type { FileIO } from '../fileio.js';
import { joinUri } from '../fileio.js';
import { applyUpdates, checkRequirements, CommitConflictError, newTableMetadata, withMetadataLog, type TableRequirement, type TableUpdate } from '../metadata.js';
import type { TableIdentifier, TableMetadata } from '../types.js';
import type { Catalog, CreateTableRequest, LoadedTable } from './catalog.js';
import { warehouseLocation } from './location.js';

/**
 * The file-system ("Hadoop") catalog: `<warehouse>/<ns>/<table>/metadata/vN.metadata.json` plus
 * `version-hint.text`. A commit creates the next version's file only if it does not exist yet
 * (atomic on local disk), so concurrent writers cannot both win. The embedded default.
 */
export class FileSystemCatalog implements Catalog {
  readonly kind = 'filesystem' as const;
  readonly description: string;
  private readonly io: FileIO;
  private readonly warehouse: string;

  constructor(io: FileIO, warehouse: string) {
    this.io = io;
    this.warehouse = io.uri(warehouse);
    this.description = `file-system catalog at ${this.warehouse}`;
  }

  defaultLocation(id: TableIdentifier): string {
    return warehouseLocation(this.warehouse, id);
  }

  private metadataFile(location: string, version: number): string {
    return joinUri(location, 'metadata', `v${version}.metadata.json`);
  }

  async namespaceExists(namespace: string[]): Promise<boolean> {
    const dir = joinUri(this.warehouse, ...namespace);
    return (await this.io.exists(joinUri(dir, '.namespace'))) || (await this.io.list(dir)).length > 0;
  }

  async createNamespace(namespace: string[]): Promise<void> {
    await this.io.createExclusive(joinUri(this.warehouse, ...namespace, '.namespace'), '{}\n');
  }

  /** The current version: version-hint.text, checked against the files (the hint may lag a crash). */
  private async currentVersion(location: string): Promise<number> {
    const hint = await this.io.readText(joinUri(location, 'metadata', 'version-hint.text'));
    let version = hint && /^\d+$/.test(hint.trim()) ? Number(hint.trim()) : 0;
    if (version === 0) {
      for (const uri of await this.io.list(joinUri(location, 'metadata'))) {
        const m = /\/v(\d+)\.metadata\.json$/.exec(uri);
        if (m) version = Math.max(version, Number(m[1]));
      }
    }
    while (await this.io.exists(this.metadataFile(location, version + 1))) version++;
    return version;
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable | undefined> {
    const location = this.defaultLocation(id);
    const version = await this.currentVersion(location);
    if (version === 0) return undefined;
    const file = this.metadataFile(location, version);
    const text = await this.io.readText(file);
    if (text === undefined) return undefined;
    return { metadata: parseJsonLossless(text) as TableMetadata, metadataLocation: file };
  }

  async createTable(id: TableIdentifier, request: CreateTableRequest): Promise<LoadedTable> {
    const location = request.location ?? this.defaultLocation(id);
    const metadata = newTableMetadata({ ...request, location });
    const file = this.metadataFile(location, 1);
    if (!(await this.io.createExclusive(file, stringifyJsonLossless(metadata, 2)))) throw new CommitConflictError(`table ${id.name} was created concurrently`);
    await this.io.write(joinUri(location, 'metadata', 'version-hint.text'), Buffer.from('1'));
    return { metadata, metadataLocation: file };
  }

  async commitTable(id: TableIdentifier, base: LoadedTable, requirements: TableRequirement[], updates: TableUpdate[]): Promise<LoadedTable> {
    checkRequirements(base.metadata, requirements);
    const location = base.metadata.location;
    const version = Number(/\/v(\d+)\.metadata\.json$/.exec(base.metadataLocation ?? '')?.[1] ?? 0);
    if (version === 0) throw new DativoError(`cannot commit to ${id.name}: unknown metadata version`, { kind: 'permanent' });
    const next = withMetadataLog(applyUpdates(base.metadata, updates), base.metadataLocation, base.metadata['last-updated-ms']);
    const file = this.metadataFile(location, version + 1);
    if (!(await this.io.createExclusive(file, stringifyJsonLossless(next, 2)))) {
      throw new CommitConflictError(`table ${[...id.namespace, id.name].join('.')} changed (version ${version + 1} exists)`);
    }
    await this.io.write(joinUri(location, 'metadata', 'version-hint.text'), Buffer.from(String(version + 1)));
    return { metadata: next, metadataLocation: file };
  }

  async close(): Promise<void> {}
}
