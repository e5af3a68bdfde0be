export { substituteEnv, formatPath, type SubstitutionResult } from './env.js';
export { parseYamlText, readYamlFile, type YamlFile } from './yaml.js';
export { closestName, formatWarning, unknownKeys, validateConfig, type ConfigWarning, type Located } from './issues.js';
export { jobSchema, type JobConfig } from './job.js';
export { assetFields, assetPrimaryKey, assetSchema, checkGovernance, migrateLegacyAsset, type AssetConfig, type AssetFieldInput } from './asset.js';
export { recipeSchema, type RecipeConfig } from './recipe.js';
export { loadAsset, loadJob, loadRecipe, recipeDefaults, resolveRelated, type LoadedFile, type LoadedJob, type LoadOptions } from './load.js';
export { v1Resilience } from './resilience.js';
export { ERROR_HANDLING_FILE, errorHandlingResilience, errorHandlingSchema, forTenant, loadErrorHandling, mergeErrorHandling, type ErrorHandling } from './error-handling.js';
