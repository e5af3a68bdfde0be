import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, type ConnectorPackage, type Extractor, type Sink } from '@dativo/core/definition';
import { BUILT_IN_SINKS, BUILT_IN_SOURCES } from './registry.js';

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

/** Whether the CLI itself brings this connector (its package carries the defaults a recipe would). */
export function isBuiltIn(name: string, role: 'source' | 'target'): boolean {
  return name in (role === 'source' ? BUILT_IN_SOURCES : BUILT_IN_SINKS);
}

/** Loads a connector package's definition by package name (transform providers, commands). */
export async function loadDefinition(packageName: string, cwd: string): Promise<ConnectorPackage> {
  return connectorOf(await importDefinition(packageName, cwd), packageName);
}

/** The package of a connector named in a job: a built-in's, or the name itself when it is a package name. */
export function connectorPackageName(name: string, role: 'source' | 'target'): string | undefined {
  return (role === 'source' ? BUILT_IN_SOURCES : BUILT_IN_SINKS)[name] ?? (looksLikePackage(name) ? name : undefined);
}

async function load(name: string, role: 'source' | 'target', cwd: string, where: { file?: string; path: string }): Promise<{ pkg: ConnectorPackage; packageName: string }> {
  const table = role === 'source' ? BUILT_IN_SOURCES : BUILT_IN_SINKS;
  const packageName = connectorPackageName(name, role);
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
  const pkg = connectorOf(mod, packageName);
  if (table[name] && !pkg.ids.includes(name)) throw new ConfigError(`package ${packageName} does not answer to '${name}' (its ids: ${pkg.ids.join(', ')})`);
  return { pkg, packageName };
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
