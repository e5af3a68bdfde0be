export { main, type MainIo } from './main.js';
export { planJob, type JobPlan, type PlanOptions } from './plan.js';
export { exitCodeOf, runCommand, type JobReport, type RunOptions } from './commands/run.js';
export { isBuiltIn, loadDefinition, loadSink, loadSource } from './connectors.js';
export { BUILT_IN_COMMANDS, BUILT_IN_SINKS, BUILT_IN_SOURCES, BUILT_IN_TRANSFORMS } from './registry.js';
export { EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL } from './exit-codes.js';
export { VERSION } from './version.js';
