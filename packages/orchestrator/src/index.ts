export { loadRunnerConfig, redisUrl, runnerConfigSchema, tenantOf, type ApiToken, type LoadedRunnerConfig, type ResolvedSchedule, type RunnerConfig, type ScheduleConfig } from './runner-config.js';
export { connect, dueAt, Fleet, queueNameOf, runJobOptions, viewOf, type FleetOptions, type RunData, type RunProgressData, type RunReport, type RunStatus, type RunView } from './fleet.js';
export { childProcessExecutor, runEnv, tenantEnv, type ChildExecutorOptions, type ExecuteRequest, type RunExecutor } from './executor.js';
export { FleetWorker, type FleetWorkerOptions } from './worker.js';
export { applySchedules, nextRuns, pauseSchedule, resumeSchedule, storedSchedules, type ApplyResult, type StoredSchedule } from './scheduler.js';
export { createControlApi, type ControlApiOptions } from './api.js';
