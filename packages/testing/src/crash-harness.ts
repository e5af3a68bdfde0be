/** What one run of the job under test did. */
export interface HarnessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

export interface CrashHarnessOptions {
  /** Iterations: a count (seeds 1..n) or the seeds themselves. */
  seeds: number | number[];
  /**
   * Runs the job once in a child process with `env` added (`DATIVO_CRASH_AT` for a crash point);
   * `onSpawn` receives the pid, so the harness can kill it.
   */
  run(env: NodeJS.ProcessEnv, onSpawn: (pid: number) => void): Promise<HarnessRun>;
  /** The crash points on the job's path (`parquet:intent-written`…): half the kills land on one of them. */
  crashPoints?: readonly string[];
  /** The other half are `kill -9` after a seeded delay below this many milliseconds. */
  killWithinMs: number;
  /** Most kills in one iteration before the job is let finish (default 3). */
  maxKills?: number;
  /** Puts source and target back to their starting point before an iteration. */
  reset(seed: number): Promise<void>;
  /** Compares the target's whole content with the source; throws on any difference. */
  verify(seed: number): Promise<void>;
}

export interface HarnessIteration {
  seed: number;
  /** The kills made, in order: `crash point@n` or `kill -9 after N ms`, and whether it landed. */
  kills: Array<{ how: string; landed: boolean }>;
  /** Runs made, the last one to completion. */
  runs: number;
}

/** A small deterministic random generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The crash-resume harness: for each seed, runs a job in a child process and kills it with
 * SIGKILL at seeded points — on a named crash point (`DATIVO_CRASH_AT=<point>@<n>`) or after a
 * seeded delay — one to `maxKills` times, then lets it finish and compares the target's full
 * content with the source (`verify`). A kill that lands after the job finished counts as not
 * landed. Throws, naming the seed and the kills, when a final run fails or `verify` does.
 */
export async function crashResumeHarness(options: CrashHarnessOptions): Promise<HarnessIteration[]> {
  const seeds = typeof options.seeds === 'number' ? Array.from({ length: options.seeds }, (_, i) => i + 1) : options.seeds;
  const out: HarnessIteration[] = [];
  for (const seed of seeds) {
    const random = seededRandom(seed);
    await options.reset(seed);
    const iteration: HarnessIteration = { seed, kills: [], runs: 0 };
    const kills = 1 + Math.floor(random() * (options.maxKills ?? 3));
    for (let k = 0; k < kills; k++) {
      const points = options.crashPoints ?? [];
      const onPoint = points.length > 0 && random() < 0.5;
      let how: string;
      let result: HarnessRun;
      if (onPoint) {
        const point = `${points[Math.floor(random() * points.length)]}@${1 + Math.floor(random() * 3)}`;
        how = `crash point ${point}`;
        result = await options.run({ DATIVO_CRASH_AT: point }, () => {});
      } else {
        const delay = Math.floor(random() * options.killWithinMs);
        how = `kill -9 after ${delay} ms`;
        let timer: NodeJS.Timeout | undefined;
        result = await options.run({}, (pid) => {
          timer = setTimeout(() => {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // finished already
            }
          }, delay);
        });
        clearTimeout(timer);
      }
      iteration.runs++;
      const landed = result.signal === 'SIGKILL';
      iteration.kills.push({ how, landed });
      if (!landed) {
        if (result.code !== 0) throw new Error(`seed ${seed}: a run meant to be killed (${how}) failed instead (exit ${result.code}): ${result.stderr.slice(-1500)}`);
        break;
      }
    }
    const last = iteration.kills.at(-1);
    if (!last || last.landed) {
      const final = await options.run({}, () => {});
      iteration.runs++;
      if (final.code !== 0) throw new Error(`seed ${seed}: the run after ${iteration.kills.map((k) => k.how).join(', ')} failed (exit ${final.code}): ${final.stderr.slice(-1500)}`);
    }
    try {
      await options.verify(seed);
    } catch (error) {
      throw new Error(`seed ${seed}: after ${iteration.kills.map((k) => `${k.how}${k.landed ? '' : ' (finished first)'}`).join(', ')}: ${(error as Error).message}`);
    }
    out.push(iteration);
  }
  return out;
}
