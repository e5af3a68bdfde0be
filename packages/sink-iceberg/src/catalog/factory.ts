import { DativoError, type ResilienceService } from '@dativo/core';
import type { IcebergSinkConfig } from '../config.js';
import type { FileIO } from '../fileio.js';
import type { Catalog } from './catalog.js';
import { FileSystemCatalog } from './filesystem.js';
import { RestCatalog } from './rest.js';
import { SqlCatalog } from './sql.js';

/** Nessie's v1/v2 API URI → the Iceberg REST endpoint it serves (`…/iceberg`). */
export function nessieRestUri(uri: string): string {
  const trimmed = uri.replace(/\/+$/, '');
  if (/\/iceberg$/.test(trimmed)) return trimmed;
  return trimmed.replace(/\/api(\/v\d+)?$/, '') + '/iceberg';
}

/** Where tables are created when the catalog does not decide it. */
export function warehouseOf(config: IcebergSinkConfig): string | undefined {
  const s3 = config.connection?.s3;
  return config.catalog?.warehouse ?? config.warehouse ?? (s3?.bucket ? `s3://${s3.bucket}/${s3.prefix ?? ''}` : undefined) ?? config.path;
}

/** The catalog a target section describes: `catalog:`, or v1's `connection.nessie`. */
export function createCatalog(config: IcebergSinkConfig, io: FileIO, resilience?: Pick<ResilienceService, 'call'>): Catalog {
  const c = config.catalog;
  const warehouse = warehouseOf(config);
  const nessie = config.connection?.nessie;
  const type = c?.type ?? (nessie || config.connection?.rest ? 'rest' : undefined);
  if (type === 'rest') {
    const uri = c?.uri ?? (nessie ? nessieRestUri(nessie.uri) : config.connection?.rest?.uri);
    if (!uri) throw new DativoError('target.catalog.uri: a REST catalog needs a URI', { kind: 'config', code: 'ICEBERG_CONFIG' });
    return new RestCatalog({
      uri,
      ...(resilience ? { resilience } : {}),
      ...(warehouse ? { warehouse } : {}),
      ...(c?.prefix ? { prefix: c.prefix } : {}),
      ...(nessie && config.branch !== 'main' ? { branch: config.branch } : {}),
      ...(c?.credential ? { credential: c.credential } : {}),
      ...((c?.token ?? nessie?.token) ? { token: (c?.token ?? nessie?.token) as string } : {}),
      ...(c?.oauth2_server_uri ? { oauth2ServerUri: c.oauth2_server_uri } : {}),
      ...(c?.scope ? { scope: c.scope } : {}),
      ...(c?.headers ? { headers: c.headers } : {}),
    });
  }
  if (!warehouse) throw new DativoError('target.warehouse: the Iceberg catalog needs a warehouse location (a local directory or s3://bucket/prefix)', { kind: 'config', code: 'ICEBERG_CONFIG' });
  if (type === 'sql' || type === 'jdbc') {
    if (!c?.uri && !c?.host) throw new DativoError('target.catalog.uri: a SQL catalog needs postgresql://user:password@host:port/database (or host, port, user, password, database)', { kind: 'config', code: 'ICEBERG_CONFIG' });
    return new SqlCatalog(io, {
      ...(c.uri ? { uri: c.uri } : {}),
      ...(c.host ? { host: c.host } : {}),
      ...(c.port ? { port: c.port } : {}),
      ...(c.user ? { user: c.user } : {}),
      ...(c.password !== undefined ? { password: c.password } : {}),
      ...(c.database ? { database: c.database } : {}),
      name: c.name,
      warehouse,
    });
  }
  return new FileSystemCatalog(io, warehouse);
}
