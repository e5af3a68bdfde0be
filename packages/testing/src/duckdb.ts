/** Rows returned by {@link queryDuckDb}, with DuckDB values converted to JSON-friendly JS values. */
export type DuckRow = Record<string, unknown>;

/**
 * Runs SQL in a fresh in-memory DuckDB (an independent Parquet reader) and returns the rows.
 * Needs the optional peer dependency `@duckdb/node-api`.
 */
export async function queryDuckDb(sql: string): Promise<DuckRow[]> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as DuckRow[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Quotes a string literal for DuckDB SQL. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
