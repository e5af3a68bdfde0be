export { queryDuckDb, sqlString, type DuckRow } from '../duckdb.js';
