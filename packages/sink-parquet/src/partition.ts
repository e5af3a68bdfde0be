import { DativoError } from '@dativo/core';

/** Supported partition columns of plain Parquet output. */
export function partitionDir(partitioning: readonly string[], now: Date): string {
  if (partitioning.length === 0) return '';
  const unsupported = partitioning.filter((p) => p !== 'ingest_date');
  if (unsupported.length) {
    throw new DativoError(
      `target.partitioning: plain Parquet output supports 'ingest_date' only, got ${unsupported.map((p) => `'${p}'`).join(', ')}; use an Iceberg target for column partitions`,
      { kind: 'config', code: 'PARQUET_PARTITIONING' },
    );
  }
  return `ingest_date=${now.toISOString().slice(0, 10)}/`;
}
