import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, type ConnectorPackage, type Extractor, type Sink } from '@dativo/core/definition';

/** Connector names of the v1 format and the packages that serve them. */
export const KNOWN_SOURCES: Record<string, string> = {
  csv: '@dativo/source-csv',
  markdown_kv: '@dativo/source-markdown-kv',
  'markdown-kv': '@dativo/source-markdown-kv',
  mdkv: '@dativo/source-markdown-kv',
  postgres: '@dativo/source-postgres',
  postgresql: '@dativo/source-postgres',
  mysql: '@dativo/source-mysql',
  mariadb: '@dativo/source-mysql',
  mongodb: '@dativo/source-mongodb',
  stripe: '@dativo/source-stripe',
  hubspot: '@dativo/source-hubspot',
  salesforce: '@dativo/source-salesforce',
  google_drive_csv: '@dativo/source-gdrive-csv',
  gdrive_csv: '@dativo/source-gdrive-csv',
  google_sheets: '@dativo/connector-google-sheets',
};

export const KNOWN_SINKS: Record<string, string> = {
  parquet: '@dativo/sink-parquet',
  s3: '@dativo/sink-parquet',
  minio: '@dativo/sink-parquet',
  local: '@dativo/sink-parquet',
  file: '@dativo/sink-parquet',
  iceberg: '@dativo/sink-iceberg',
  snowflake: '@dativo/sink-snowflake',
  google_sheets: '@dativo/connector-google-sheets',
};

export function isKnownConnector(name: string): boolean {
  return name in KNOWN_SOURCES || name in KNOWN_SINKS;
}

/** A third-party connector is named by its npm package (`@acme/dativo-source-x`, `dativo-source-x`). */
function looksLikePackage(name: string): boolean {
  return name.startsWith('@') || name.includes('/') || name.startsWith('dativo-');
}

async function importPackage(name: string, cwd: string): Promise<unknown> {
  // The CLI's own dependencies (ES modules) first, then the project's node_modules (third-party
  // connectors installed next to the jobs).
  try {
    return await import(name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    let resolved: string;
    try {
      resolved = createRequire(path.join(cwd, 'package.json')).resolve(name);
    } catch {
      throw error;
    }
    return import(pathToFileURL(resolved).href);
  }
}

/**
 * A connector package's definition: its `<package>/connector` entry when it has one (the built-ins
 * do: the definition without the runtime, so validating a job stays fast), else the package itself.
 */
async function importDefinition(name: string, cwd: string): Promise<unknown> {
  try {
    return await importPackage(`${name}/connector`, cwd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED' && code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    return importPackage(name, cwd);
  }
}

function connectorOf(mod: unknown, name: string): ConnectorPackage {
  const pkg = (mod as { dativoConnector?: ConnectorPackage }).dativoConnector;
  if (!pkg || pkg.specificationVersion !== 'v1') {
    throw new ConfigError(`package '${name}' is not a Dativo connector (it must export 'dativoConnector' with specificationVersion 'v1')`);
  }
  return pkg;
}

export interface ResolvedConnector<T> {
  name: string;
  packageName: string;
  connector: T;
  /** The package's export, with its optional v1 hooks. */
  pkg: ConnectorPackage;
}

async function load(name: string, role: 'source' | 'target', cwd: string, where: { file?: string; path: string }): Promise<{ pkg: ConnectorPackage; packageName: string }> {
  const table = role === 'source' ? KNOWN_SOURCES : KNOWN_SINKS;
  const packageName = table[name] ?? (looksLikePackage(name) ? name : undefined);
  if (!packageName) {
    throw new ConfigError(`unknown ${role} connector '${name}'; expected one of ${Object.keys(table).join(', ')}, or an npm package name of a third-party connector`, {
      ...(where.file ? { file: where.file } : {}),
      path: where.path,
    });
  }
  let mod: unknown;
  try {
    mod = await importDefinition(packageName, cwd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new ConfigError(`${role} connector '${name}' needs the package ${packageName}, which is not installed (npm install ${packageName})`, {
        ...(where.file ? { file: where.file } : {}),
        path: where.path,
        cause: error,
      });
    }
    throw error;
  }
  return { pkg: connectorOf(mod, packageName), packageName };
}

export async function loadSource(name: string, cwd: string, where: { file?: string; path: string }): Promise<ResolvedConnector<Extractor<unknown>>> {
  const { pkg, packageName } = await load(name, 'source', cwd, where);
  if (!pkg.source) throw new ConfigError(`package ${packageName} has no source connector`, { ...(where.file ? { file: where.file } : {}), path: where.path });
  return { name, packageName, connector: pkg.source(), pkg };
}

export async function loadSink(name: string, cwd: string, where: { file?: string; path: string }): Promise<ResolvedConnector<Sink<unknown>>> {
  const { pkg, packageName } = await load(name, 'target', cwd, where);
  if (!pkg.sink) throw new ConfigError(`package ${packageName} has no sink connector`, { ...(where.file ? { file: where.file } : {}), path: where.path });
  return { name, packageName, connector: pkg.sink(), pkg };
}
