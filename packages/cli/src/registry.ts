/**
 * The built-in connectors: the names v1 jobs use for them and the package of each. This is the
 * only place the CLI names connectors; everything else it learns from the packages themselves
 * (their definitions, v1 hooks and commands).
 */
export const BUILT_IN_SOURCES: Record<string, string> = {
  csv: '@dativo/source-csv',
  markdown_kv: '@dativo/source-markdown-kv',
  'markdown-kv': '@dativo/source-markdown-kv',
  mdkv: '@dativo/source-markdown-kv',
  postgres: '@dativo/source-postgres',
  postgresql: '@dativo/source-postgres',
  mysql: '@dativo/source-mysql',
  mariadb: '@dativo/source-mysql',
  stripe: '@dativo/source-stripe',
  hubspot: '@dativo/source-hubspot',
  gdrive_csv: '@dativo/source-gdrive-csv',
  google_sheets: '@dativo/connector-google-sheets',
  gsheets: '@dativo/connector-google-sheets',
};

export const BUILT_IN_SINKS: Record<string, string> = {
  parquet: '@dativo/sink-parquet',
  s3: '@dativo/sink-parquet',
  minio: '@dativo/sink-parquet',
  local: '@dativo/sink-parquet',
  file: '@dativo/sink-parquet',
  iceberg: '@dativo/sink-iceberg',
  files: '@dativo/sink-files',
  google_sheets: '@dativo/connector-google-sheets',
  gsheets: '@dativo/connector-google-sheets',
};

/** Packages whose definitions may reshape any source's rows for a v1 target (Markdown-KV rendering). */
export const BUILT_IN_TRANSFORMS: readonly string[] = ['@dativo/source-markdown-kv'];

/** Connectors that add commands to the CLI (`dativo iceberg compact …`), with a line for `--help`. */
export const BUILT_IN_COMMANDS: Record<string, { package: string; description: string }> = {
  iceberg: { package: '@dativo/sink-iceberg', description: 'maintenance of Iceberg tables a job writes (expire-snapshots, compact)' },
};
