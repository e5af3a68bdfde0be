import { joinUri } from '../fileio.js';
import type { TableIdentifier } from '../types.js';

/** `<warehouse>/<namespace…>/<table>`, the layout Iceberg's Hadoop, JDBC and Python catalogs use. */
export function warehouseLocation(warehouse: string, id: TableIdentifier): string {
  return joinUri(warehouse, ...id.namespace, id.name);
}

/** `metadata/00003-<uuid>.metadata.json` */
export function nextMetadataFile(location: string, version: number, uuid: string): string {
  return joinUri(location, 'metadata', `${String(version).padStart(5, '0')}-${uuid}.metadata.json`);
}

/** The version number in a metadata file name (`v3.metadata.json`, `00003-….metadata.json`). */
export function metadataVersion(file: string | undefined): number {
  if (!file) return 0;
  const m = /(?:^|\/)(?:v)?(\d+)(?:-[^/]*)?\.metadata\.json$/.exec(file);
  return m ? Number(m[1]) : 0;
}
