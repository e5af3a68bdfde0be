import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { BatchBuilder, parseDataType, type FieldSpec } from '@dativo/core';
import { testRunContext } from '@dativo/testing';
import { readIcebergTable } from '@dativo/testing/iceberg';
import { startS3Server, type TestS3Server } from '@dativo/testing/s3';
import { tempPostgresDatabase, type TempDatabase } from '@dativo/testing/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { icebergSink } from './connector.js';

const FIELDS: FieldSpec[] = [
  { name: 'id', type: parseDataType('bigint'), nullable: false },
  { name: 'day', type: parseDataType('date'), nullable: true },
  { name: 'note', type: parseDataType('string'), nullable: true },
];
let s3: TestS3Server;
let pg: TempDatabase;

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['lake'] });
  pg = await tempPostgresDatabase('dativo_iceberg_s3');
});
afterAll(async () => {
  await s3?.stop();
  await pg?.drop();
});

describe('Iceberg tables on S3', () => {
  it('writes data, manifests and metadata to an S3-compatible store (custom endpoint, path-style)', async () => {
    const sink = icebergSink();
    const config = sink.configSchema.parse({
      catalog: { type: 'sql', uri: pg.uri },
      warehouse: 's3://lake/warehouse',
      namespace: 'acme',
      create_namespace: true,
      partitioning: ['day(day)'],
      connection: { s3: { endpoint: s3.endpoint, access_key_id: s3.accessKeyId, secret_access_key: s3.secretAccessKey, path_style_access: true } },
    });
    const writer = await sink.open(config, { name: 'notes', schema: FIELDS, syncModes: ['full_refresh'] }, testRunContext({ tenant: 'acme', job: 's3' }));
    const b = new BatchBuilder(FIELDS);
    for (let i = 0; i < 1000; i++) b.appendRecord({ id: BigInt(i), day: new Date(Date.UTC(2024, 0, 1 + (i % 5))), note: `note ${i}` });
    await writer.write(b.flush()!);
    await writer.commit({ stream: 'notes', state: 'done' });
    await writer.close();

    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
    const keys = ((await client.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: 'warehouse/acme/notes/' }))).Contents ?? []).map((o) => o.Key as string);
    client.destroy();
    expect(keys.filter((k) => k.includes('/data/day_day=')).length).toBe(5);
    expect(keys.some((k) => /\/metadata\/00001-.*\.metadata\.json$/.test(k))).toBe(true);
    expect(keys.some((k) => /\/metadata\/snap-\d+-1-.*\.avro$/.test(k))).toBe(true);

    const pgm = (await import('pg')).default;
    const c = new pgm.Client({ connectionString: pg.uri });
    await c.connect();
    const location = (await c.query("SELECT metadata_location FROM iceberg_tables WHERE table_name = 'notes'")).rows[0].metadata_location as string;
    await c.end();
    expect(location).toMatch(/^s3:\/\/lake\/warehouse\/acme\/notes\/metadata\//);
    const rows = await readIcebergTable({ metadataLocation: location, s3Endpoint: s3.endpoint });
    expect(rows.length).toBe(1000);
    expect(new Set(rows.map((r) => Number(r.id))).size).toBe(1000);
  });
});
