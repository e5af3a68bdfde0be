import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { tempMysqlDatabase, tempPostgresDatabase, type TempDatabase, type TempMysqlDatabase } from '@dativo/testing/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetFiles, runCli } from './helpers.js';

/**
 * v1 database jobs, written as v1 users have them (recipe with a connection template, `tables`
 * with `object` and `cursor_field`, `incremental.strategy`, `${PGHOST}`-style settings, an Iceberg
 * target without a catalog), run unchanged: check, discover and run.
 */
const scratch = tempDir('dativo-v1-sql-');
const dir = scratch.path;
let pgdb: TempDatabase;
let mydb: TempMysqlDatabase;

const ASSET = `$schema: schemas/odcs/dativo-odcs-3.0.2-extended.schema.json
apiVersion: v3.0.2
kind: DataContract
name: orders
version: "1.0"
source_type: postgres
object: orders
target: { file_format: parquet, partitioning: [ingest_date], mode: strict }
schema:
  - { name: id, type: bigint, required: true }
  - { name: status, type: string }
  - { name: total, type: decimal, precision: 10, scale: 2 }
  - { name: updated_at, type: timestamp }
team: { owner: data-team@acme.example }
compliance: { classification: [] }
data_quality: { monitoring: { enabled: true, oncall_rotation: data-ops@acme.example } }
change_management: { policy: non-breaking, approval_required: true }
`;

function job(engine: 'postgres' | 'mysql', schemaTable: string, connection: string): string {
  return `tenant_id: acme
environment: prod
source_connector: ${engine}
source_connector_path: connectors/${engine}.yaml
target_connector: iceberg
target_connector_path: connectors/iceberg.yaml
asset: ${engine}_orders
asset_path: assets/${engine}/v1.0/orders.yaml
source:
  tables:
    - name: ${schemaTable}
      object: orders
      cursor_field: updated_at
  incremental:
    strategy: updated_at
    lookback_days: 1
  connection:
${connection}
target:
  path: out/${engine}
schema_validation_mode: strict
logging:
  level: INFO
  redaction: true
`;
}

beforeAll(async () => {
  pgdb = await tempPostgresDatabase('dativo_v1');
  await pgdb.exec(`CREATE TABLE orders (id bigint PRIMARY KEY, status text, total numeric(10,2), updated_at timestamp);
    INSERT INTO orders SELECT g, CASE WHEN g % 2 = 0 THEN 'paid' ELSE 'open' END, g * 1.25, TIMESTAMP '2024-03-01' + g * INTERVAL '1 hour' FROM generate_series(1, 500) g;`);
  mydb = await tempMysqlDatabase('dativo_v1');
  await mydb.exec(`CREATE TABLE orders (id bigint PRIMARY KEY, status varchar(10), total decimal(10,2), updated_at datetime);
    INSERT INTO orders WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 500) SELECT n, IF(n % 2 = 0, 'paid', 'open'), n * 1.25, TIMESTAMP '2024-03-01 00:00:00' + INTERVAL n HOUR FROM g;`);
  for (const sub of ['jobs/acme', 'connectors', 'assets/postgres/v1.0', 'assets/mysql/v1.0']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'connectors/postgres.yaml'), 'name: postgres\ntype: postgres\nroles: [source]\nconnection_template: { host: "${PGHOST}", port: "${PGPORT:-5432}" }\nincremental: { strategy: updated_at, cursor_field_default: updated_at, lookback_days_default: 1 }\ndefault_engine: { type: airbyte, options: { image: airbyte/source-postgres } }\n');
  writeFileSync(path.join(dir, 'connectors/mysql.yaml'), 'name: mysql\ntype: mysql\nroles: [source]\nconnection_template: { host: "${MYSQL_HOST}", port: "${MYSQL_PORT:-3306}" }\ndefault_engine: { type: meltano }\n');
  writeFileSync(path.join(dir, 'connectors/iceberg.yaml'), 'name: iceberg\ntype: iceberg\nroles: [target]\n');
  writeFileSync(path.join(dir, 'assets/postgres/v1.0/orders.yaml'), ASSET);
  writeFileSync(path.join(dir, 'assets/mysql/v1.0/orders.yaml'), ASSET.replace('source_type: postgres', 'source_type: mysql'));
  writeFileSync(path.join(dir, 'jobs/acme/postgres_orders.yaml'), job('postgres', 'public.orders', `    database: "\${PGDATABASE}"\n    user: "\${PGUSER:-postgres}"`));
  writeFileSync(path.join(dir, 'jobs/acme/mysql_orders.yaml'), job('mysql', 'orders', `    database: "\${MYSQL_DATABASE}"\n    user: root\n    password: "\${MYSQL_PASSWORD:-}"`));
});
afterAll(async () => {
  await pgdb?.drop();
  await mydb?.drop();
  scratch.cleanup();
});

const env = () => ({ PGHOST: '127.0.0.1', PGDATABASE: pgdb.name, MYSQL_HOST: '127.0.0.1', MYSQL_DATABASE: mydb.name });

describe('v1 database jobs', () => {
  for (const engine of ['postgres', 'mysql'] as const) {
    it(`${engine}: check, discover and run the v1 job unchanged; the second run reads only the lookback window`, async () => {
      const file = `jobs/acme/${engine}_orders.yaml`;
      const check = await runCli(['check', '--config', file], { cwd: dir, env: env() });
      expect(check.code, check.stdout + check.stderr).toBe(0);
      const discover = await runCli(['discover', '--config', file, '--json'], { cwd: dir, env: env() });
      expect(discover.code, discover.stderr).toBe(0);
      expect(JSON.stringify(JSON.parse(discover.stdout))).toContain('"updated_at"');

      const first = await runCli(['run', '--config', file, '--json'], { cwd: dir, env: env() });
      expect(first.code, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout).jobs[0].rows).toBe(500);
      const files = parquetFiles(path.join(dir, 'out', engine));
      expect(files[0]).toMatch(/ingest_date=\d{4}-\d\d-\d\d/);
      const [r] = await queryDuckDb(`SELECT count(*)::INTEGER AS n, sum(total)::VARCHAR AS total, max(updated_at)::VARCHAR AS last FROM read_parquet([${files.map(sqlString).join(', ')}])`);
      expect(r).toEqual({ n: 500, total: String(((500 * 501) / 2) * 1.25) + (Number.isInteger(((500 * 501) / 2) * 1.25) ? '.00' : '0'), last: '2024-03-21 20:00:00' });
      // lookback_days: 1 re-reads the last day (24 hourly rows plus the boundary row).
      const second = await runCli(['run', '--config', file, '--json'], { cwd: dir, env: env() });
      expect(JSON.parse(second.stdout).jobs[0].rows).toBe(25);
    });
  }
});
