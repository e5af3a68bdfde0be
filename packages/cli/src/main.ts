import { Command, CommanderError, Option } from 'commander';
import { EXIT_FAILURE } from './exit-codes.js';
import type { RawGlobalOptions } from './globals.js';
import { BUILT_IN_COMMANDS } from './registry.js';
import { VERSION } from './version.js';

// Commands (and through them core and the connectors) load when used, so `--version` and `--help`
// start at once and `validate` loads no runtime.

export interface MainIo {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

const secretOptions = (cmd: Command): Command =>
  cmd
    .option('--secret-manager <kind>', 'where secrets come from: env (default) or filesystem')
    .option('--secrets-dir <dir>', 'directory with one file per secret (filesystem manager)')
    .option('--secret-manager-config <file|json>', 'secret manager settings, e.g. {"dir": "/run/secrets"}');

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: MainIo = {}): Promise<number> {
  let exitCode = 0;
  const program = new Command('dativo')
    .description('Dativo: move data from files, databases and SaaS APIs into the lakehouse')
    .version(VERSION, '-V, --version')
    .option('--state-dir <dir>', 'incremental state directory (default .dativo/state, or DATIVO_STATE_DIR)')
    .option('--dlq-dir <dir>', 'dead-letter queue directory (default .dativo/dlq, or DATIVO_DLQ_DIR)')
    .option('--error-handling <file>', 'error policy: retries, circuit breaker, dead-letter queue (default configs/error_handling.yaml when present, or DATIVO_ERROR_HANDLING)')
    .option('--log-level <level>', 'debug, info, warn or error (default: the job\'s logging.level)')
    .addOption(new Option('--log-format <format>', 'logs on stderr: json lines, or text (default: text on a terminal, json otherwise)').choices(['json', 'text']))
    .option('--json', 'machine-readable output on stdout')
    .option('-q, --quiet', 'no summary or progress output')
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (s) => (io.stdout ?? process.stdout).write(s),
      writeErr: (s) => (io.stderr ?? process.stderr).write(s),
    });
  const globals = async (): Promise<import('./globals.js').GlobalOptions> => (await import('./globals.js')).resolveGlobals(program.opts<RawGlobalOptions>(), io);

  secretOptions(
    program
      .command('run')
      .description('run jobs: dativo run --config job.yaml | dativo run job.yaml | dativo run --job-dir jobs/')
      .argument('[job]', 'job file (same as --config)')
      .option('-c, --config <file>', 'job file')
      .option('--job-dir <dir>', 'run every job file in a directory')
      .option('--tenant-id <id>', 'only run jobs of this tenant')
      .option('--state-id <id>', "keep the job's progress under this id instead of its name (continue a renamed job)")
      .option('--metrics-port <port>', 'serve Prometheus metrics at http://<host>:<port>/metrics while running (0: any free port)')
      .option('--pushgateway <url>', 'push each job\'s metrics to this Prometheus Pushgateway when it ends (also when it fails)')
      .option('--progress-interval <seconds>', 'off a terminal: a progress log line per stream every N seconds (default 30; 0: none)')
      .addOption(new Option('--mode <mode>', 'v1 run mode').choices(['self_hosted', 'cloud']).default('self_hosted')),
  ).action(async (job: string | undefined, opts: Record<string, string | undefined>) => {
    const g = await globals();
    const config = opts.config ?? job;
    // The job's connectors start their slow boots (the Parquet encoding thread) while the run loads.
    if (config && !opts.jobDir) await (await import('./warm-up.js')).warmUpJob(config, g.cwd);
    exitCode = await (await import('./commands/run.js')).runCommand({ ...opts, ...(config ? { config } : {}) }, g);
  });

  secretOptions(
    program
      .command('check')
      .description('check configuration, connectivity and credentials of a job: dativo check --config job.yaml | --job-dir jobs/')
      .argument('[job]', 'job file (same as --config)')
      .option('-c, --config <file>', 'job file')
      .option('--job-dir <dir>', 'check every job file in a directory')
      .option('-v, --verbose', 'show details of passing checks'),
  ).action(async (job: string | undefined, opts: Record<string, string | boolean | undefined>) => {
    exitCode = await (await import('./commands/check.js')).checkCommand({ ...opts, ...(job && !opts.config ? { config: job } : {}) }, await globals());
  });

  secretOptions(
    program
      .command('discover')
      .description('list the streams and schemas a source offers, or a connector\'s settings')
      .option('--connector <name>', 'connector name or package')
      .option('-c, --config <file>', 'job file'),
  ).action(async (opts: Record<string, string | undefined>) => {
    exitCode = await (await import('./commands/discover.js')).discoverCommand(opts, await globals());
  });

  program
    .command('validate')
    .description('validate job, asset and connector recipe files')
    .argument('<files...>', 'YAML files')
    .option('--environment <env>', 'environment for asset governance checks (default prod)')
    .action(async (files: string[], opts: { environment?: string }) => {
      exitCode = await (await import('./commands/validate.js')).validateCommand(files, opts, await globals());
    });

  const state = program.command('state').description('incremental state');
  secretOptions(
    state
      .command('show')
      .description('show stored checkpoints')
      .option('-c, --config <file>', 'job file (selects its tenant and job)')
      .option('--state-id <id>', "with --config: the job's state id, when not its state_id or name")
      .option('--tenant <id>')
      .option('--job <name>', 'job name or state id')
      .option('--stream <name>'),
  ).action(async (opts: Record<string, string | undefined>) => {
    exitCode = await (await import('./commands/state.js')).stateShowCommand(opts, await globals());
  });
  secretOptions(
    state
      .command('reset')
      .description('forget checkpoints so the next run starts over')
      .option('-c, --config <file>', 'job file (also resets the checkpoint its target keeps)')
      .option('--state-id <id>', "with --config: the job's state id, when not its state_id or name")
      .option('--tenant <id>')
      .option('--job <name>', 'job name or state id')
      .option('--stream <name>'),
  ).action(async (opts: Record<string, string | undefined>) => {
    exitCode = await (await import('./commands/state.js')).stateResetCommand(opts, await globals());
  });

  const dlq = program.command('dlq').description('dead-letter queue');
  dlq
    .command('list')
    .description('list dead-letter files, or the entries of one run with --run')
    .option('--tenant <id>')
    .option('--job <name>')
    .option('--run <runId>', 'show the entries of this run')
    .option('--limit <n>', 'entries to show with --run')
    .action(async (opts: Record<string, string | undefined>) => {
      exitCode = await (await import('./commands/dlq.js')).dlqListCommand(opts, await globals());
    });

  secretOptions(
    dlq
      .command('show')
      .description('the entries of one dead-letter run, numbered (as replay --entries takes them), with their replays')
      .requiredOption('--run <runId>', 'the run whose entries to show (see dlq list)')
      .option('--tenant <id>')
      .option('--job <name>'),
  ).action(async (opts: Record<string, string | undefined>) => {
    exitCode = await (await import('./commands/dlq.js')).dlqShowCommand(opts, await globals());
  });
  secretOptions(
    dlq
      .command('replay')
      .description("send dead-letter entries again through the job's sink, once each (after fixing the data, the asset or the code)")
      .requiredOption('-c, --config <file>', 'the job whose entries to replay')
      .requiredOption('--run <runId>', 'the run whose entries to replay (see dlq list)')
      .option('--entries <list>', 'entry numbers as dlq show numbers them: 1,3-5 (default all)')
      .option('--force', 'send entries that were replayed already again')
      .option('--state-id <id>', "the job's state id, when not its state_id or name"),
  ).action(async (opts: Record<string, string | boolean | undefined>) => {
    exitCode = await (await import('./commands/dlq.js')).dlqReplayCommand(opts as never, await globals());
  });

  // Commands connectors add (`dativo <connector> <command> …`): loaded only when one is called.
  for (const [id, info] of Object.entries(BUILT_IN_COMMANDS)) {
    const group = program.command(id).description(info.description);
    if (argv[0] !== id) continue;
    const { loadDefinition } = await import('./connectors.js');
    const pkg = await loadDefinition(info.package, io.cwd ?? process.cwd());
    for (const command of pkg.commands ?? []) {
      const sub = secretOptions(group.command(command.name).description(command.description).requiredOption('-c, --config <file>', 'job file'));
      for (const o of command.options ?? []) sub.option(o.flags, o.description);
      sub.action(async (opts: Record<string, string | undefined>) => {
        exitCode = await (await import('./commands/connector.js')).connectorCommand(id, info.package, command, opts, await globals());
      });
    }
  }

  // Orchestrated mode: schedules and a worker fleet on Redis (BullMQ), with a control API and console.
  const fleetOptions = (cmd: Command): Command =>
    secretOptions(cmd)
      .option('--runner-config <file>', 'runner file (v1 configs/runner.yaml): schedules, concurrency, Redis, API tokens')
      .option('--redis-url <url>', 'Redis to use (default runner.redis.url, REDIS_URL, else redis://127.0.0.1:6379)');
  const workerOptions = (cmd: Command): Command =>
    cmd
      .option('--concurrency <n>', 'runs this process runs at once (default runner.worker.concurrency, else 1)')
      .option('--tenants <list>', 'only take runs of these tenants (comma-separated)')
      .option('--lock-seconds <n>', 'how long a run stays owned by a worker that stopped answering before another takes it over (default 30)');
  const apiOptions = (cmd: Command): Command => cmd.option('--port <port>', 'control API and console port (default runner.api.port, else 3000)').option('--host <host>', 'address to listen on (default 127.0.0.1)');
  const fleet = () => import('./commands/orchestrated.js');

  apiOptions(
    workerOptions(
      fleetOptions(
        program
          .command('start')
          .description('v1 long-running mode: dativo start orchestrated --runner-config runner.yaml (scheduler, worker and control API in one process); oneshot runs each schedule once')
          .argument('<mode>', 'orchestrated or oneshot'),
      ),
    ).option('--no-api', 'without the control API and console'),
  ).action(async (mode: string, opts: Record<string, string | undefined>) => {
    exitCode = await (await fleet()).startCommand(mode, opts, await globals());
  });

  workerOptions(fleetOptions(program.command('worker').description('take queued and scheduled runs from Redis and run them (as many workers on as many machines as wanted)'))).action(async (opts: Record<string, string | undefined>) => {
    exitCode = await (await fleet()).workerCommand(opts, await globals());
  });

  fleetOptions(program.command('scheduler').description("put the runner file's schedules into Redis (idempotent: any number of schedulers); stays up, applies the file again on SIGHUP"))
    .option('--once', 'apply the schedules and exit')
    .action(async (opts: Record<string, string | undefined>) => {
      exitCode = await (await fleet()).schedulerCommand(opts, await globals());
    });

  fleetOptions(program.command('submit').description('queue a one-off run of a job for the workers: dativo submit --config job.yaml'))
    .option('-c, --config <file>', 'job file')
    .option('--wait', 'wait for the run to end and exit with its exit code')
    .action(async (opts: Record<string, string | undefined>) => {
      exitCode = await (await fleet()).submitCommand(opts, await globals());
    });

  apiOptions(fleetOptions(program.command('api').description('serve the control API and web console alone'))).action(async (opts: Record<string, string | undefined>) => {
    exitCode = await (await fleet()).apiCommand(opts, await globals());
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : EXIT_FAILURE;
    }
    throw error;
  }
  return exitCode;
}
