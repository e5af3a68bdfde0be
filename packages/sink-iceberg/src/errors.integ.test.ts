import net from 'node:net';
import path from 'node:path';
import { BatchBuilder, parseDataType, type FieldSpec, type StreamDescriptor } from '@dativo/core';
import { reliabilityRow, tempDir, testRunContext } from '@dativo/testing';
import { readIcebergTable, startRestCatalog, type RestCatalogServer } from '@dativo/testing/iceberg';
import { tempPostgresDatabase, type TempDatabase } from '@dativo/testing/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { icebergSink } from './connector.js';

const FIELDS: FieldSpec[] = [
  { name: 'id', type: parseDataType('bigint'), nullable: false },
  { name: 'v', type: parseDataType('string'), nullable: true },
];
const STREAM: StreamDescriptor = { name: 't', schema: FIELDS, syncModes: ['full_refresh'] };
const scratch = tempDir('dativo-iceberg-errors-');
let rest: RestCatalogServer;
let pg: TempDatabase;
let closedPort: number;

beforeAll(async () => {
  rest = await startRestCatalog({ warehouse: path.join(scratch.path, 'rest'), clients: { dativo: 'right-secret' }, tokens: ['good-token'], readOnlyTokens: ['reader-token'] });
  rest.createNamespace('acme');
  pg = await tempPostgresDatabase('dativo_iceberg_err');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedPort = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
afterAll(async () => {
  await rest?.stop();
  await pg?.drop();
  scratch.cleanup();
});

async function open(target: Record<string, unknown>) {
  const sink = icebergSink();
  return sink.open(sink.configSchema.parse({ namespace: 'acme', table: 't', partitioning: [], ...target }), STREAM, testRunContext({ tenant: 'acme', job: 'errors' }));
}

function rows(from: number, n: number) {
  const b = new BatchBuilder(FIELDS);
  for (let i = from; i < from + n; i++) b.appendRecord({ id: BigInt(i), v: `v${i}` });
  return b.flush()!;
}

describe('bad input gives a clear error and commits nothing', () => {
  it('unreachable catalogs', async () => {
    const down = `http://127.0.0.1:${closedPort}`;
    await expect(open({ catalog: { type: 'rest', uri: down } })).rejects.toThrow(`REST catalog ${down} is unreachable (ECONNREFUSED); check target.catalog.uri (or target.connection.nessie.uri) and the network`);
    const sql = await open({ catalog: { type: 'sql', uri: `postgresql://dativo:pw-never-shown@127.0.0.1:${closedPort}/catalog` }, warehouse: path.join(scratch.path, 'sql') }).catch((e: Error) => e);
    expect((sql as Error).message).toBe(`SQL catalog 'dativo' on postgresql://dativo@127.0.0.1:${closedPort}/catalog is unreachable (ECONNREFUSED)`);
    expect((sql as Error).message).not.toContain('pw-never-shown');
    await expect(open({ connection: { nessie: { uri: `${down}/api/v1` } }, branch: 'acme', warehouse: 's3://lake/acme' })).rejects.toThrow(`REST catalog ${down}/iceberg is unreachable (ECONNREFUSED)`);
  });

  it('wrong credentials (401) and missing permission (403)', async () => {
    await expect(open({ catalog: { type: 'rest', uri: rest.uri, credential: 'dativo:wrong-secret' } })).rejects.toThrow(
      `REST catalog ${rest.uri}: OAuth2 token request was refused (401: bad client credentials); check the client id and secret`,
    );
    const bad = await open({ catalog: { type: 'rest', uri: rest.uri, token: 'expired-token' } }).catch((e: Error) => e);
    expect((bad as Error).message).toBe(`REST catalog ${rest.uri} refused the credentials (401) while trying to read its configuration: Not authorized: missing or invalid token`);
    expect((bad as Error).message).not.toContain('expired-token');
    await expect(open({ catalog: { type: 'rest', uri: rest.uri, token: 'reader-token' } })).rejects.toThrow(
      `REST catalog ${rest.uri} denied access (403) while trying to create table acme.t: Forbidden: principal may not write`,
    );
    reliabilityRow({ connector: 'Iceberg target', fault: 'wrong catalog credentials (401), a token without write permission (403)', outcome: 'fails at once naming the catalog and the cause, never the secret' });
  });

  it('a missing namespace', async () => {
    await expect(open({ catalog: { type: 'rest', uri: rest.uri, token: 'good-token' }, namespace: 'nowhere' })).rejects.toThrow(
      `namespace 'nowhere' does not exist in the REST catalog ${rest.uri}; create it, or set target.create_namespace: true`,
    );
    await expect(open({ catalog: { type: 'sql', uri: pg.uri }, warehouse: path.join(scratch.path, 'sql'), namespace: 'nowhere' })).rejects.toThrow(
      `namespace 'nowhere' does not exist in the SQL catalog 'dativo' on ${pg.uri}; create it, or set target.create_namespace: true`,
    );
    expect(rest.metadataLocation('nowhere', 't')).toBeUndefined();
  });

  it('a retried commit never adds the same data twice (lost response, conflicts)', async () => {
    const target = { catalog: { type: 'rest', uri: rest.uri, token: 'good-token' }, table: 'retry' };
    const w = await open(target);
    await w.write(rows(0, 100));
    rest.failCommits(1, 500); // applied, then answered 500: the outcome looks unknown
    await w.commit({ stream: 't', state: 1 });
    await w.write(rows(100, 50));
    rest.failCommits(2, 409); // two conflicts, then success
    await w.commit({ stream: 't', state: 2 });
    await w.close();
    const read = await readIcebergTable({ metadataLocation: rest.metadataLocation('acme', 'retry') as string });
    expect(read.length).toBe(150);
    expect(new Set(read.map((r) => Number(r.id))).size).toBe(150);
    reliabilityRow({ connector: 'Iceberg target', fault: 'a commit applied but answered 500 (lost response), then two 409 conflicts (REST catalog)', outcome: 'retried: each row once' });
  });
});
