import { main } from './main.js';

// The AWS SDK warns on every process under Node 20 that its 2027 releases need Node 22; the CLI
// pins the SDK and supports Node 20, so the warning says nothing to its users (set the variable to
// anything else to see it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// A run started by `dativo worker` ends with the worker: when the IPC channel closes (the worker was
// killed), the run stops at once as a crash would, and another worker resumes it from its last commit
// once the dead worker's lock has expired. The channel does not keep the run alive by itself.
if (process.env.DATIVO_WORKER_IPC === '1' && process.channel) {
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  process.channel.unref();
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`dativo: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  },
);
