import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, inputBaseDirs, isPlainObject, type ConnectorPackage, type Extractor, type Sink } from '@dativo/core/definition';
import type { ResolvedConnector } from './connectors.js';

/** Where a plugin reference sits in the job file, for errors. */
export interface PluginWhere {
  file: string;
  /** `source.custom_reader` or `target.custom_writer`. */
  path: string;
  line?: number;
}

/** A parsed `path/to/file.ext:ExportName` reference of v1's `custom_reader` / `custom_writer`. */
export interface PluginRef {
  /** The reference as written. */
  text: string;
  /** The file part, as written. */
  file: string;
  /** The export (JS) or class (Python) name; `default` when a JS reference names none. */
  exportName: string;
  language: 'javascript' | 'python' | 'native';
}

const JS = new Set(['.mjs', '.js', '.cjs']);
const NATIVE = new Set(['.so', '.dylib', '.dll']);

function fail(message: string, where: PluginWhere, cause?: unknown): never {
  throw new ConfigError(message, { file: where.file, path: where.path, ...(where.line ? { line: where.line } : {}), ...(cause ? { cause } : {}) });
}

/** Parses a plugin reference; the export name follows the last `:`. */
export function parsePluginRef(value: unknown, where: PluginWhere): PluginRef {
  if (typeof value !== 'string' || value.trim() === '') fail(`expected 'path/to/plugin.mjs:ExportName' (or a v1 'reader.py:ClassName'), got ${JSON.stringify(value)}`, where);
  const text = value.trim();
  const colon = text.lastIndexOf(':');
  // A colon right after a drive letter (C:\…) is part of the path.
  const split = colon > 1 ? colon : -1;
  const file = split > 0 ? text.slice(0, split) : text;
  const exportName = split > 0 ? text.slice(split + 1) : '';
  const ext = path.extname(file).toLowerCase();
  if (NATIVE.has(ext)) {
    fail(
      `'${text}' is a Rust (native) plugin, which Dativo does not run; write the ${where.path.endsWith('custom_writer') ? 'writer as a Sink' : 'reader as an Extractor'} in JavaScript (see docs/plugins.md) or as a connector package`,
      where,
    );
  }
  if (ext === '.py') {
    if (!exportName) fail(`a Python plugin needs its class: '${text}:ClassName'`, where);
    return { text, file, exportName, language: 'python' };
  }
  if (!JS.has(ext)) fail(`'${file}' is not a plugin file Dativo runs: expected a JavaScript module (.mjs, .js, .cjs) or a v1 Python reader (.py)`, where);
  return { text, file, exportName: exportName || 'default', language: 'javascript' };
}

/** The plugin file: absolute, else relative to the working directory (as v1), then to the job file's directory and its parents. */
export function resolvePluginFile(ref: PluginRef, where: PluginWhere, ctx: { cwd: string; configDir?: string }): string {
  if (path.isAbsolute(ref.file)) {
    if (!existsSync(ref.file)) fail(`plugin file '${ref.file}' not found`, where);
    return ref.file;
  }
  const bases = inputBaseDirs(ctx);
  for (const base of bases) {
    const candidate = path.resolve(base, ref.file);
    if (existsSync(candidate)) return candidate;
  }
  return fail(`plugin file '${ref.file}' not found (looked relative to ${bases.slice(0, 2).join(' and ')}${bases.length > 2 ? ' and the parents of the job directory' : ''})`, where);
}

const isExtractor = (v: unknown): v is Extractor<unknown> => isPlainObjectLike(v) && v.specificationVersion === 'v1' && typeof v.read === 'function' && typeof v.check === 'function' && isSchema(v.configSchema);
const isSink = (v: unknown): v is Sink<unknown> => isPlainObjectLike(v) && v.specificationVersion === 'v1' && typeof v.open === 'function' && isSchema(v.configSchema);
const isConnectorPackage = (v: unknown): v is ConnectorPackage => isPlainObjectLike(v) && v.specificationVersion === 'v1' && Array.isArray(v.ids) && (typeof v.source === 'function' || typeof v.sink === 'function');

function isPlainObjectLike(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function isSchema(v: unknown): boolean {
  return isPlainObjectLike(v) && typeof v.safeParse === 'function';
}

/** A class (called with `new`) rather than a factory function. */
function isClass(v: Function): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(v));
}

/**
 * Turns a JS plugin's export into the connector it stands for. Accepted: the Extractor / Sink
 * object itself, a factory function or class returning one (called without arguments), or a
 * whole connector package (`defineConnector(…)`).
 */
function connectorFromExport(value: unknown, role: 'source' | 'target', ref: PluginRef, where: PluginWhere): Extractor<unknown> | Sink<unknown> {
  const want = role === 'source' ? isExtractor : isSink;
  let candidate = value;
  if (typeof candidate === 'function' && !want(candidate)) {
    try {
      candidate = isClass(candidate) ? new (candidate as new () => unknown)() : (candidate as () => unknown)();
    } catch (error) {
      fail(`${ref.text}: calling the export '${ref.exportName}' to create the ${role === 'source' ? 'extractor' : 'sink'} failed: ${(error as Error).message}`, where, error);
    }
  }
  if (isConnectorPackage(candidate)) {
    const make = role === 'source' ? candidate.source : candidate.sink;
    if (!make) fail(`${ref.text}: the connector package '${ref.exportName}' has no ${role === 'source' ? 'source' : 'sink'}`, where);
    candidate = make();
  }
  if (candidate && typeof (candidate as { then?: unknown }).then === 'function') {
    fail(`${ref.text}: the export '${ref.exportName}' returned a promise; export the ${role === 'source' ? 'extractor' : 'sink'} (or a synchronous factory) instead`, where);
  }
  if (want(candidate)) return candidate;
  const shape = role === 'source' ? "an Extractor (specificationVersion 'v1', spec, configSchema, check, discover, read)" : "a Sink (specificationVersion 'v1', spec, configSchema, check, open)";
  return fail(`${ref.text}: the export '${ref.exportName}' is not ${shape}, nor a function or class returning one, nor a connector package`, where);
}

const pluginPackage = (name: string, role: 'source' | 'target', connector: Extractor<unknown> | Sink<unknown>): ConnectorPackage => ({
  specificationVersion: 'v1',
  ids: [name],
  ...(role === 'source' ? { source: () => connector as Extractor<unknown> } : { sink: () => connector as Sink<unknown> }),
});

/** Loads a plugin named by `custom_reader` (role `source`) or `custom_writer` (role `target`). */
export async function loadPlugin(role: 'source', value: unknown, where: PluginWhere, ctx: { cwd: string; configDir?: string }): Promise<ResolvedConnector<Extractor<unknown>>>;
export async function loadPlugin(role: 'target', value: unknown, where: PluginWhere, ctx: { cwd: string; configDir?: string }): Promise<ResolvedConnector<Sink<unknown>>>;
export async function loadPlugin(role: 'source' | 'target', value: unknown, where: PluginWhere, ctx: { cwd: string; configDir?: string }): Promise<ResolvedConnector<Extractor<unknown> | Sink<unknown>>> {
  const ref = parsePluginRef(value, where);
  if (ref.language === 'python' && role === 'target') {
    fail(`'${ref.text}' is a v1 Python writer (BaseWriter), which Dativo does not run; write the writer as a JavaScript Sink (see docs/plugins.md) or use a built-in target`, where);
  }
  const file = resolvePluginFile(ref, where, ctx);
  if (ref.language === 'python') {
    const { pythonReader } = await import('./python-reader.js');
    const connector = pythonReader({ file, className: ref.exportName, ref: ref.text });
    return { name: ref.text, packageName: file, connector, pkg: pluginPackage(ref.text, role, connector) };
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    return fail(`${ref.text}: the module could not be loaded: ${(error as Error).message}`, where, error);
  }
  if (!(ref.exportName in mod)) {
    const names = Object.keys(mod).filter((k) => k !== '__esModule');
    fail(`${ref.text}: the module has no export '${ref.exportName}'${names.length ? ` (it exports ${names.join(', ')})` : ''}`, where);
  }
  const connector = connectorFromExport(mod[ref.exportName], role, ref, where);
  return { name: ref.text, packageName: file, connector, pkg: pluginPackage(ref.text, role, connector) } as ResolvedConnector<Extractor<unknown> | Sink<unknown>>;
}

/** The section a plugin is configured with: the job's section without the plugin reference itself. */
export function pluginSection(section: Record<string, unknown>, key: 'custom_reader' | 'custom_writer'): Record<string, unknown> {
  return isPlainObject(section) ? Object.fromEntries(Object.entries(section).filter(([k]) => k !== key)) : section;
}
