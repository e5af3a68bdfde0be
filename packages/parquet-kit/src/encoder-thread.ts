import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

/**
 * The Parquet encoding thread, started ahead of need. Booting it (a new isolate,
 * parquet-wasm's WebAssembly, the native zstd binding) takes a few hundred milliseconds; started
 * when a run is known to write Parquet, it boots on the second core while the main thread is still
 * loading the run's modules, instead of after the first batch while the source waits for it.
 *
 * This module has no dependencies besides Node's own: the CLI reaches it through the sinks'
 * definitions, before any runtime is loaded.
 */

/** One spare thread per process, shared by every copy of this package. */
const SPARE = Symbol.for('dativo.parquetKit.spareEncoderThread');

type Holder = { [SPARE]?: Worker };

const holder = globalThis as Holder;

function spawn(): Worker {
  return new Worker(fileURLToPath(new URL('./encoder-worker.mjs', import.meta.url)));
}

/**
 * Starts an encoding thread for the next {@link takeEncoderThread} (no-op when one is waiting).
 * The spare does not keep the process alive and never throws: a failure shows when it is used.
 */
export function warmEncoderThread(): void {
  if (holder[SPARE]) return;
  try {
    const worker = spawn();
    worker.unref();
    // A spare that dies unused is dropped; the next take spawns a new one (and sees its error).
    const drop = (): void => {
      if (holder[SPARE] === worker) delete holder[SPARE];
    };
    worker.once('error', drop);
    worker.once('exit', drop);
    holder[SPARE] = worker;
  } catch {
    // Threads unavailable: the encoder will say so when it is created.
  }
}

/** Whether a spare thread is waiting (tests). */
export function hasSpareEncoderThread(): boolean {
  return holder[SPARE] !== undefined;
}

/** The spare thread when one is waiting (kept alive from now on), else a new one. */
export function takeEncoderThread(): Worker {
  const spare = holder[SPARE];
  if (spare) {
    delete holder[SPARE];
    spare.removeAllListeners('error');
    spare.removeAllListeners('exit');
    spare.ref();
    return spare;
  }
  return spawn();
}
