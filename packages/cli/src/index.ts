export { main, type MainIo } from './main.js';
export { planJob, type JobPlan, type PlanOptions } from './plan.js';
export { exitCodeOf, runCommand, type JobReport, type RunOptions } from './commands/run.js';
export { KNOWN_SINKS, KNOWN_SOURCES, isKnownConnector, loadSink, loadSource } from './connectors.js';
export { EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL } from './exit-codes.js';
export { VERSION } from './version.js';
