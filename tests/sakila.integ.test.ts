import path from 'node:path';
import { readRows, runPipeline, type Checkpoint, type ConfiguredStream, type Extractor, type StreamDescriptor } from '@dativo/core';
import { parquetSink } from '@dativo/sink-parquet';
import { mysqlSource } from '@dativo/source-mysql';
import { postgresSource } from '@dativo/source-postgres';
import type { SqlSourceConfig } from '@dativo/sql-kit';
import { expectRowsEqual, tempDir, testRunContext } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { tempMysqlDatabase, tempPostgresDatabase } from '@dativo/testing/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A sakila-like schema (actors, films with enums / arrays or sets, a composite-key link table, a
 * view with awkward names) on both databases: discover lists it all, every stream lands in Parquet
 * equal to the database (read back by DuckDB), and a composite-key table resumes exactly.
 */
const scratch = tempDir('dativo-sakila-');
afterAll(() => scratch.cleanup());

const ACTORS = 200;
const FILMS = 1000;
const RATINGS = ['G', 'PG', 'PG-13', 'R', 'NC-17'];
// film_actor: actor a plays in film f when (7f + a) % 40 = 0, about 25 films per actor.
const LINKS = (() => {
  const out: Array<[number, number]> = [];
  for (let a = 1; a <= ACTORS; a++) for (let f = 1; f <= FILMS; f++) if ((7 * f + a) % 40 === 0) out.push([a, f]);
  return out;
})();

interface Engine {
  name: 'postgres' | 'mysql';
  source: Extractor<SqlSourceConfig>;
  config(extra?: Record<string, unknown>): SqlSourceConfig;
  /** Rows of a query, every value as text. */
  rows(sql: string): Promise<Array<Record<string, unknown>>>;
  quote(name: string): string;
  /** How the view and the tables are named in `source.tables`. */
  table(name: string): string;
  drop(): Promise<void>;
}

async function postgres(): Promise<Engine> {
  const db = await tempPostgresDatabase('dativo_sakila');
  await db.exec(`CREATE SCHEMA sakila;
    CREATE TYPE sakila.mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
    CREATE TABLE sakila.actor (actor_id integer PRIMARY KEY, first_name varchar(45) NOT NULL, last_name varchar(45) NOT NULL, last_update timestamp NOT NULL);
    CREATE TABLE sakila.film (film_id integer PRIMARY KEY, title varchar(255) NOT NULL, description text, release_year integer, rental_rate numeric(4,2) NOT NULL,
      length smallint, rating sakila.mpaa_rating, special_features text[], last_update timestamp NOT NULL);
    CREATE TABLE sakila.film_actor (actor_id integer NOT NULL REFERENCES sakila.actor, film_id integer NOT NULL REFERENCES sakila.film, last_update timestamp NOT NULL,
      PRIMARY KEY (actor_id, film_id));
    CREATE VIEW sakila."Actor Info" AS SELECT a.actor_id, a.first_name || ' ' || a.last_name AS "Full Name", count(fa.film_id) AS "Film Count"
      FROM sakila.actor a LEFT JOIN sakila.film_actor fa USING (actor_id) GROUP BY a.actor_id, a.first_name, a.last_name;
    CREATE TABLE public.actor (id integer);
    INSERT INTO sakila.actor SELECT g, 'First' || g, CASE WHEN g % 10 = 0 THEN 'O''Brien ☺' ELSE 'Last' || g END, TIMESTAMP '2006-02-15 04:34:33' + g * INTERVAL '1 minute' FROM generate_series(1, ${ACTORS}) g;
    INSERT INTO sakila.film SELECT g, 'FILM ' || g, CASE WHEN g % 9 = 0 THEN NULL ELSE 'A "thoughtful" story, with commas; no. ' || g END, 2000 + g % 20, (g % 5) + 0.99,
      CASE WHEN g % 11 = 0 THEN NULL ELSE 46 + g % 140 END, (ARRAY['G', 'PG', 'PG-13', 'R', 'NC-17'])[1 + g % 5]::sakila.mpaa_rating,
      CASE g % 4 WHEN 0 THEN ARRAY['Trailers'] WHEN 1 THEN ARRAY['Trailers', 'Deleted Scenes'] WHEN 2 THEN ARRAY[]::text[] ELSE NULL END, TIMESTAMP '2006-02-15 05:03:42'
      FROM generate_series(1, ${FILMS}) g;
    INSERT INTO sakila.film_actor SELECT a, f, TIMESTAMP '2006-02-15 05:05:03' FROM generate_series(1, ${ACTORS}) a, generate_series(1, ${FILMS}) f WHERE (7 * f + a) % 40 = 0;`);
  const source = postgresSource();
  const quote = (n: string): string => `"${n.replace(/"/g, '""')}"`;
  return {
    name: 'postgres',
    source,
    config: (extra = {}) => source.configSchema.parse({ connection: { uri: db.uri }, schemas: ['sakila', 'public'], batch_rows: 700, ...extra }),
    rows: (sql) => db.exec(sql),
    quote,
    table: (name) => `sakila.${quote(name)}`,
    drop: () => db.drop(),
  };
}

async function mysql(): Promise<Engine> {
  const db = await tempMysqlDatabase('dativo_sakila');
  await db.exec(`SET SESSION max_recursive_iterations = 1000000;
    CREATE TABLE actor (actor_id smallint unsigned PRIMARY KEY, first_name varchar(45) NOT NULL, last_name varchar(45) NOT NULL, last_update timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP);
    CREATE TABLE film (film_id smallint unsigned PRIMARY KEY, title varchar(255) NOT NULL, description text, release_year year, rental_rate decimal(4,2) NOT NULL,
      length smallint unsigned, rating enum('G','PG','PG-13','R','NC-17') DEFAULT 'G', special_features set('Trailers','Commentaries','Deleted Scenes','Behind the Scenes'),
      last_update timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP);
    CREATE TABLE film_actor (actor_id smallint unsigned NOT NULL, film_id smallint unsigned NOT NULL, last_update timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
      PRIMARY KEY (actor_id, film_id), FOREIGN KEY (actor_id) REFERENCES actor (actor_id), FOREIGN KEY (film_id) REFERENCES film (film_id));
    CREATE VIEW \`Actor Info\` AS SELECT a.actor_id, CONCAT(a.first_name, ' ', a.last_name) AS \`Full Name\`, COUNT(fa.film_id) AS \`Film Count\`
      FROM actor a LEFT JOIN film_actor fa USING (actor_id) GROUP BY a.actor_id, a.first_name, a.last_name;
    INSERT INTO actor WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${ACTORS})
      SELECT n, CONCAT('First', n), IF(n % 10 = 0, 'O''Brien ☺', CONCAT('Last', n)), TIMESTAMP '2006-02-15 04:34:33' + INTERVAL n MINUTE FROM g;
    INSERT INTO film WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${FILMS})
      SELECT n, CONCAT('FILM ', n), IF(n % 9 = 0, NULL, CONCAT('A "thoughtful" story, with commas; no. ', n)), 2000 + n % 20, (n % 5) + 0.99,
        IF(n % 11 = 0, NULL, 46 + n % 140), ELT(1 + n % 5, 'G', 'PG', 'PG-13', 'R', 'NC-17'),
        CASE n % 4 WHEN 0 THEN 'Trailers' WHEN 1 THEN 'Trailers,Deleted Scenes' WHEN 2 THEN '' ELSE NULL END, TIMESTAMP '2006-02-15 05:03:42' FROM g;
    INSERT INTO film_actor SELECT a.actor_id, f.film_id, TIMESTAMP '2006-02-15 05:05:03' FROM actor a JOIN film f ON (7 * f.film_id + a.actor_id) % 40 = 0;`);
  const source = mysqlSource();
  const quote = (n: string): string => `\`${n.replace(/`/g, '``')}\``;
  return {
    name: 'mysql',
    source,
    config: (extra = {}) => source.configSchema.parse({ connection: { uri: db.uri }, batch_rows: 700, ...extra }),
    rows: async (sql) => (await db.exec(sql)) as Array<Record<string, unknown>>,
    quote,
    table: (name) => quote(name),
    drop: () => db.drop(),
  };
}

/** Per stream: columns compared as text, as each database and DuckDB write them. */
const COMPARED: Record<string, { key: string[]; columns: Array<{ name: string; pg: string; mysql: string; duck: string }> }> = {
  actor: {
    key: ['actor_id'],
    columns: [
      { name: 'first_name', pg: 'first_name', mysql: 'first_name', duck: 'first_name' },
      { name: 'last_name', pg: 'last_name', mysql: 'last_name', duck: 'last_name' },
      { name: 'last_update', pg: `to_char(last_update, 'YYYY-MM-DD HH24:MI:SS')`, mysql: `DATE_FORMAT(last_update, '%Y-%m-%d %H:%i:%s')`, duck: `strftime(last_update, '%Y-%m-%d %H:%M:%S')` },
    ],
  },
  film: {
    key: ['film_id'],
    columns: [
      { name: 'title', pg: 'title', mysql: 'title', duck: 'title' },
      { name: 'description', pg: 'description', mysql: 'description', duck: 'description' },
      { name: 'release_year', pg: 'release_year::text', mysql: 'CAST(release_year AS CHAR)', duck: 'release_year::VARCHAR' },
      { name: 'rental_rate', pg: 'rental_rate::text', mysql: 'CAST(rental_rate AS CHAR)', duck: 'rental_rate::VARCHAR' },
      { name: 'length', pg: 'length::text', mysql: 'CAST(length AS CHAR)', duck: 'length::VARCHAR' },
      { name: 'rating', pg: 'rating::text', mysql: 'rating', duck: 'rating' },
      // Lists as `a|b`; an empty list as '' and NULL as NULL on every side.
      { name: 'special_features', pg: `array_to_string(special_features, '|')`, mysql: `REPLACE(special_features, ',', '|')`, duck: `array_to_string(special_features, '|')` },
    ],
  },
  film_actor: {
    key: ['actor_id', 'film_id'],
    columns: [{ name: 'last_update', pg: `to_char(last_update, 'YYYY-MM-DD HH24:MI:SS')`, mysql: `DATE_FORMAT(last_update, '%Y-%m-%d %H:%i:%s')`, duck: `strftime(last_update, '%Y-%m-%d %H:%M:%S')` }],
  },
  'Actor Info': {
    key: ['actor_id'],
    columns: [
      { name: 'Full Name', pg: '"Full Name"', mysql: '`Full Name`', duck: '"Full Name"' },
      { name: 'Film Count', pg: '"Film Count"::text', mysql: 'CAST(`Film Count` AS CHAR)', duck: '"Film Count"::VARCHAR' },
    ],
  },
};

for (const make of [postgres, mysql]) {
  describe(`sakila-like schema on ${make.name}`, () => {
    let engine: Engine;
    let streams: StreamDescriptor[];
    beforeAll(async () => {
      engine = await make();
      streams = await engine.source.discover(engine.config(), testRunContext());
    }, 60_000);
    afterAll(async () => {
      await engine?.drop();
    });

    const find = (name: string): StreamDescriptor => {
      const found = streams.find((s) => s.name === name || s.name === `sakila.${name}`);
      if (!found) throw new Error(`no stream ${name} in ${streams.map((s) => s.name).join(', ')}`);
      return found;
    };

    it('discovers every table and the view, with types, nullability and (composite) keys', () => {
      const names = streams.map((s) => s.name).sort();
      if (make === postgres) expect(names).toEqual(['Actor Info', 'film', 'film_actor', 'public.actor', 'sakila.actor']);
      else expect(names).toEqual(['Actor Info', 'actor', 'film', 'film_actor']);
      expect(find('film_actor').primaryKey).toEqual(['actor_id', 'film_id']);
      expect(find('Actor Info').primaryKey).toBeUndefined();
      expect(find('Actor Info').description).toMatch(/^view /);
      expect(find('film').description).toMatch(/^table /);
      const film = Object.fromEntries(find('film').schema.map((f) => [f.name, f]));
      expect(film.title?.nullable).toBe(false);
      expect(film.description?.nullable).toBe(true);
      expect(film.rental_rate?.type).toEqual({ kind: 'decimal', precision: 4, scale: 2 });
      expect(film.rating?.type).toEqual({ kind: 'string' });
      expect(film.special_features?.type).toEqual({ kind: 'list', element: { kind: 'string' } });
    });

    for (const name of Object.keys(COMPARED)) {
      it(`lands ${name} in Parquet equal to the database, value by value`, async () => {
        const descriptor = find(name);
        const spec = COMPARED[name] as (typeof COMPARED)[string];
        const out = path.join(scratch.path, make.name, name.replace(/\W/g, '_'));
        const sink = parquetSink();
        const stream: ConfiguredStream = { name: descriptor.name, schema: descriptor.schema, syncMode: 'full_refresh', ...(descriptor.primaryKey ? { primaryKey: descriptor.primaryKey } : {}) };
        const result = await runPipeline({
          extractor: engine.source,
          sourceConfig: engine.config({ tables: [{ name: engine.table(name), object: descriptor.name }] }),
          sink,
          sinkConfig: sink.configSchema.parse({ path: out, partitioning: [] }),
          streams: [stream],
          ctx: testRunContext(),
        });
        expect(result.status, result.error?.message).toBe('succeeded');
        const q = engine.quote;
        const side = make === postgres ? 'pg' : 'mysql';
        const keyText = spec.key.map((k) => (make === postgres ? `${q(k)}::text` : `CAST(${q(k)} AS CHAR)`));
        const expected = await engine.rows(
          `SELECT ${[...spec.key.map((k, i) => `${keyText[i]} AS ${q(k)}`), ...spec.columns.map((c) => `${c[side]} AS ${q(c.name)}`)].join(', ')} FROM ${engine.table(name)} ORDER BY ${spec.key.map(q).join(', ')}`,
        );
        const duck = await queryDuckDb(
          `SELECT ${[...spec.key.map((k) => `"${k}"::VARCHAR AS "${k}"`), ...spec.columns.map((c) => `${c.duck} AS "${c.name}"`)].join(', ')} FROM read_parquet(${sqlString(`${out}/**/*.parquet`)}) ORDER BY ${spec.key.map((k) => `"${k}"`).join(', ')}`,
        );
        expect(duck.length).toBe(name === 'film' ? FILMS : name === 'film_actor' ? LINKS.length : ACTORS);
        expectRowsEqual(expected, duck, [...spec.key, ...spec.columns.map((c) => c.name)], (_, v) => (v === null || v === undefined ? null : String(v)), spec.key[0]);
      });
    }

    it('resumes the composite-key table after any checkpoint with no gap and no duplicate', async () => {
      const descriptor = find('film_actor');
      const stream = (resumeFrom?: Checkpoint): ConfiguredStream => ({ name: descriptor.name, schema: descriptor.schema, syncMode: 'full_refresh', primaryKey: ['actor_id', 'film_id'], ...(resumeFrom ? { resumeFrom } : {}) });
      const cfg = engine.config({ tables: [{ name: engine.table('film_actor'), object: descriptor.name }] });
      const read = async (s: ConfiguredStream) => {
        const pairs: string[] = [];
        const checkpoints: Checkpoint[] = [];
        for await (const m of engine.source.read(cfg, { streams: [s] }, testRunContext())) {
          if (m.kind === 'batch') for (const row of readRows(m.batch, descriptor.schema)) pairs.push(`${row.actor_id}/${row.film_id}`);
          if (m.kind === 'checkpoint') checkpoints.push(m.checkpoint);
        }
        return { pairs, checkpoints };
      };
      const all = await read(stream());
      expect(all.pairs).toEqual(LINKS.map(([a, f]) => `${a}/${f}`));
      const middle = all.checkpoints[3] as Checkpoint;
      const position = (middle.state as { key: string[] }).key;
      expect(position).toHaveLength(2);
      const resumed = await read(stream(middle));
      const at = all.pairs.indexOf(position.join('/'));
      expect(at).toBe(4 * 700 - 1);
      expect(resumed.pairs).toEqual(all.pairs.slice(at + 1));
    });
  });
}
