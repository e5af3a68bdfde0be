import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, ConfigErrors, deepMerge, displayPath, isPlainObject, type FieldSpec } from '@dativo/core/definition';
import { assetFields, assetPrimaryKey, assetSchema, checkGovernance, migrateLegacyAsset, type AssetConfig } from './asset.js';
import { substituteEnv } from './env.js';
import { validateConfig, type ConfigWarning } from './issues.js';
import { jobSchema, type JobConfig } from './job.js';
import { recipeSchema, type RecipeConfig } from './recipe.js';
import { readYamlFile, type YamlFile } from './yaml.js';

export interface LoadOptions {
  /** Working directory relative paths resolve against first (as v1 did). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface LoadedFile<T> {
  file: string;
  value: T;
  lineOf: YamlFile['lineOf'];
}

export interface LoadedJob {
  /** The job file as shown in messages. */
  file: string;
  /** Job name: `name:` or the file name without extension. */
  name: string;
  job: JobConfig;
  jobLineOf: YamlFile['lineOf'];
  asset: LoadedFile<AssetConfig>;
  fields: FieldSpec[];
  primaryKey?: string[];
  sourceRecipe?: LoadedFile<RecipeConfig>;
  targetRecipe?: LoadedFile<RecipeConfig>;
  /**
   * Recipe files the job names that do not exist. Fine for a connector that carries its own
   * defaults (v1's built-ins); for others the caller reports the error.
   */
  missingRecipes: Array<{ role: 'source' | 'target'; connector: string; error: ConfigError }>;
  /** The job's `source:` with recipe defaults merged under it. */
  sourceInput: Record<string, unknown>;
  /** The job's `target:` with recipe and asset target defaults merged under it. */
  targetInput: Record<string, unknown>;
  /** The file and line a `target.*` value came from when the asset supplied it (for messages). */
  targetOrigin: (path: (string | number)[]) => { file: string; line?: number | undefined } | undefined;
  warnings: ConfigWarning[];
  /** Environment variables the files referenced (their values may be secrets). */
  envVarsUsed: string[];
}

interface LoadExtras {
  /** Unset `${VAR}`s at these paths are not errors (their values are overridden or unused). */
  excused?: (path: (string | number)[]) => boolean;
  /** Reshapes an older form of the file before validation; `at` maps a new path to the file's own. */
  migrate?: (data: unknown) => { data: unknown; at?: (path: (string | number)[]) => (string | number)[] };
}

async function loadValidated<T>(
  file: string,
  what: string,
  schema: Parameters<typeof validateConfig<T>>[0],
  options: Required<Pick<LoadOptions, 'cwd' | 'env'>>,
  warnings: ConfigWarning[],
  used: Set<string>,
  extras: LoadExtras = {},
): Promise<LoadedFile<T>> {
  const yaml = await readYamlFile(file, what, options.cwd);
  const migrated = extras.migrate?.(yaml.data) ?? { data: yaml.data };
  const at = migrated.at;
  const lineOf: YamlFile['lineOf'] = at ? (p) => yaml.lineOf(at(p)) : yaml.lineOf;
  const substituted = substituteEnv(migrated.data, options.env, { file: yaml.file, lineOf });
  for (const name of substituted.used) used.add(name);
  const excused = extras.excused ?? (() => false);
  const errors = substituted.unresolved.filter((u) => !excused(u.path)).map((u) => u.error);
  if (errors.length) throw new ConfigErrors(errors);
  const { value, warnings: w } = validateConfig(schema, substituted.value, { file: yaml.file, lineOf });
  warnings.push(...w);
  return { file: yaml.file, value, lineOf };
}

/** Loads an asset file, migrating v1's legacy form (wrapped in `asset:`) as v1 does on load. */
function loadAssetFile(file: string, options: Required<Pick<LoadOptions, 'cwd' | 'env'>>, warnings: ConfigWarning[], used: Set<string>): Promise<LoadedFile<AssetConfig>> {
  return loadValidated(file, 'asset', assetSchema, options, warnings, used, { migrate: migrateLegacyAsset });
}

/**
 * Finds a file named in a job: relative to the working directory first (v1 behaviour), then
 * relative to the job file's directory and its parents (so `examples/x/jobs/acme/job.yaml` can say
 * `asset_path: assets/csv/v1.0/person.yaml`).
 */
/** Values v1 assets carry in `target.mode` that are schema-validation settings, not write modes. */
const V1_VALIDATION_MODES = new Set(['strict', 'warn', 'lenient', 'permissive']);

export function resolveRelated(target: string, jobFile: string, cwd: string): string | undefined {
  if (path.isAbsolute(target)) return existsSync(target) ? target : undefined;
  const fromCwd = path.resolve(cwd, target);
  if (existsSync(fromCwd)) return fromCwd;
  let dir = path.dirname(path.resolve(cwd, jobFile));
  for (;;) {
    const candidate = path.resolve(dir, target);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Recipe values a connector sees as defaults under the job's own values. */
export function recipeDefaults(recipe: RecipeConfig | undefined, jobSection: Record<string, unknown>): Record<string, unknown> {
  if (!recipe) return {};
  const out: Record<string, unknown> = { ...(recipe.defaults ?? {}) };
  if (recipe.connection_template) out.connection = recipe.connection_template;
  if (recipe.credentials) out.credentials = recipe.credentials;
  if (recipe.rate_limits) out.rate_limits = recipe.rate_limits;
  if (recipe.file_format) out.file_format = recipe.file_format;
  if (recipe.partitioning_default) out.partitioning = recipe.partitioning_default;
  if (recipe.incremental && isPlainObject(jobSection.incremental)) {
    const inc: Record<string, unknown> = {};
    if (recipe.incremental.strategy) inc.strategy = recipe.incremental.strategy;
    if (recipe.incremental.cursor_field_default) inc.cursor_field = recipe.incremental.cursor_field_default;
    if (recipe.incremental.lookback_days_default !== undefined) inc.lookback_days = recipe.incremental.lookback_days_default;
    out.incremental = inc;
  }
  return out;
}

/** Where a recipe value lands in the job's section (see {@link recipeDefaults}); undefined when it does not. */
function recipeSectionPath(recipePath: (string | number)[]): (string | number)[] | undefined {
  const [head, ...rest] = recipePath;
  switch (head) {
    case 'connection_template':
      return ['connection', ...rest];
    case 'credentials':
    case 'rate_limits':
      return [head, ...rest];
    case 'defaults':
      return rest;
    default:
      return undefined;
  }
}

function hasValueAt(root: unknown, path: (string | number)[]): boolean {
  let node = root;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return false;
    node = (node as Record<string | number, unknown>)[part];
  }
  return node !== undefined && node !== null;
}

/** Loads a job with its asset and recipes, validates everything and merges defaults. */
export async function loadJob(jobFile: string, options: LoadOptions = {}): Promise<LoadedJob> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const warnings: ConfigWarning[] = [];
  const used = new Set<string>();
  const opts = { cwd, env };
  // v1's top-level `catalog:` (OpenMetadata lineage) is not supported yet: its variables need not be set.
  const job = await loadValidated(jobFile, 'job', jobSchema, opts, warnings, used, { excused: (p) => p[0] === 'catalog' });
  const j = job.value;
  const errors: ConfigError[] = [];
  if (j.catalog !== undefined) {
    const type = isPlainObject(j.catalog) && typeof j.catalog.type === 'string' ? ` (${j.catalog.type})` : '';
    warnings.push({ file: job.file, path: 'catalog', ...(job.lineOf(['catalog']) ? { line: job.lineOf(['catalog']) as number } : {}), message: `lineage and metadata push to a data catalog${type} is not supported yet; the block is ignored` });
  }

  const related = (key: 'asset_path' | 'source_connector_path' | 'target_connector_path', what: string): string | undefined => {
    const value = j[key];
    if (!value) return undefined;
    const found = resolveRelated(value, jobFile, cwd);
    if (!found) {
      const line = job.lineOf([key]);
      errors.push(new ConfigError(`${what} file '${value}' not found (looked relative to ${displayPath(cwd, cwd) || '.'} and to the job file)`, { file: job.file, path: key, ...(line ? { line } : {}) }));
    }
    return found;
  };

  const assetPath = related('asset_path', 'asset');
  if (errors.length) throw new ConfigErrors(errors);
  const missingRecipes: LoadedJob['missingRecipes'] = [];
  const recipePath = (role: 'source' | 'target'): string | undefined => {
    const given = j[`${role}_connector_path`];
    if (!given) return undefined;
    const found = resolveRelated(given, jobFile, cwd);
    if (!found) {
      const line = job.lineOf([`${role}_connector_path`]);
      const error = new ConfigError(`${role} connector recipe file '${given}' not found (looked relative to ${displayPath(cwd, cwd) || '.'} and to the job file)`, { file: job.file, path: `${role}_connector_path`, ...(line ? { line } : {}) });
      missingRecipes.push({ role, connector: j[`${role}_connector`], error });
    }
    return found;
  };
  const sourceRecipePath = recipePath('source');
  const targetRecipePath = recipePath('target');

  const asset = await loadAssetFile(assetPath as string, opts, warnings, used);
  const fields = assetFields(asset.value, { file: asset.file, lineOf: asset.lineOf }, warnings);
  const governance = checkGovernance(asset.value, j.environment, { file: asset.file });
  warnings.push(...governance.warnings);
  if (governance.errors.length) throw new ConfigErrors(governance.errors);
  if (asset.value.name !== j.asset) {
    warnings.push({ file: job.file, path: 'asset', message: `job names asset '${j.asset}' but ${asset.file} defines '${asset.value.name}'` });
  }

  // A recipe default the job overrides may name a variable that is not set (v1's minio recipe names
  // ${MINIO_BUCKET}; its jobs set the bucket): only values the job really uses must resolve.
  const overriddenIn = (section: Record<string, unknown>) => (p: (string | number)[]) => {
    const at = recipeSectionPath(p);
    return at !== undefined && hasValueAt(section, at);
  };
  const sourceRecipe = sourceRecipePath ? await loadValidated(sourceRecipePath, 'connector recipe', recipeSchema, opts, warnings, used, { excused: overriddenIn(j.source) }) : undefined;
  const targetRecipe = targetRecipePath ? await loadValidated(targetRecipePath, 'connector recipe', recipeSchema, opts, warnings, used, { excused: overriddenIn(j.target) }) : undefined;
  for (const [recipe, role, name] of [
    [sourceRecipe, 'source', j.source_connector],
    [targetRecipe, 'target', j.target_connector],
  ] as const) {
    if (recipe && !recipe.value.roles.includes(role)) {
      throw new ConfigError(`recipe '${recipe.value.name}' does not have the ${role} role (roles: ${recipe.value.roles.join(', ')})`, { file: recipe.file, path: 'roles' });
    }
    if (recipe && recipe.value.type && recipe.value.type !== name && recipe.value.name !== name) {
      warnings.push({ file: recipe.file, path: 'type', message: `recipe type '${recipe.value.type}' differs from the job's ${role}_connector '${name}'` });
    }
  }

  // The asset's `target:` is a default of the job's; its `mode` is a write mode (append, overwrite,
  // merge…) unless it is v1's validation setting (`mode: strict`).
  const assetTarget: Record<string, unknown> = { ...(asset.value.target ?? {}) };
  delete assetTarget.mode;
  // The asset's write mode (append, overwrite, merge…); v1 assets say `mode: strict` there, a
  // validation setting that is not a write mode.
  const assetMode = asset.value.target?.mode;
  if (assetMode && !V1_VALIDATION_MODES.has(assetMode.toLowerCase())) assetTarget.mode = assetMode;

  const pk = assetPrimaryKey(asset.value);
  return {
    file: job.file,
    name: j.name ?? path.basename(jobFile).replace(/\.ya?ml$/i, ''),
    job: j,
    jobLineOf: job.lineOf,
    asset,
    fields,
    ...(pk ? { primaryKey: pk } : {}),
    ...(sourceRecipe ? { sourceRecipe } : {}),
    ...(targetRecipe ? { targetRecipe } : {}),
    missingRecipes,
    sourceInput: deepMerge(recipeDefaults(sourceRecipe?.value, j.source), j.source),
    targetInput: deepMerge(deepMerge(recipeDefaults(targetRecipe?.value, j.target), assetTarget), j.target),
    targetOrigin: (p) => {
      const key = p[1];
      if (p[0] !== 'target' || typeof key !== 'string' || !(key in assetTarget)) return undefined;
      if (j.target && typeof j.target === 'object' && key in j.target) return undefined;
      return { file: asset.file, line: asset.lineOf(p) };
    },
    warnings,
    envVarsUsed: [...used],
  };
}

/** Loads and validates one asset file on its own (`dativo validate <asset>`). */
export async function loadAsset(file: string, options: LoadOptions & { environment?: string } = {}): Promise<{ asset: LoadedFile<AssetConfig>; fields: FieldSpec[]; warnings: ConfigWarning[] }> {
  const warnings: ConfigWarning[] = [];
  const asset = await loadAssetFile(file, { cwd: options.cwd ?? process.cwd(), env: options.env ?? process.env }, warnings, new Set());
  const fields = assetFields(asset.value, { file: asset.file, lineOf: asset.lineOf }, warnings);
  const governance = checkGovernance(asset.value, options.environment ?? 'prod', { file: asset.file });
  warnings.push(...governance.warnings);
  if (governance.errors.length) throw new ConfigErrors(governance.errors);
  return { asset, fields, warnings };
}

/** Loads a recipe file on its own. */
export async function loadRecipe(file: string, options: LoadOptions = {}): Promise<{ recipe: LoadedFile<RecipeConfig>; warnings: ConfigWarning[] }> {
  const warnings: ConfigWarning[] = [];
  // On its own a recipe is a template: the variables it names are set where jobs run.
  const recipe = await loadValidated(file, 'connector recipe', recipeSchema, { cwd: options.cwd ?? process.cwd(), env: options.env ?? process.env }, warnings, new Set(), { excused: () => true });
  return { recipe, warnings };
}
