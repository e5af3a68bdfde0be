import type { Extractor } from './extractor.js';
import type { Sink } from './sink.js';

/** What a source must say about itself without its runtime: id, version, config schema, fixed streams. */
export type ExtractorHead<C> = Pick<Extractor<C>, 'spec' | 'configSchema'> & Partial<Pick<Extractor<C>, 'outputStreams'>>;

/**
 * A source whose runtime (drivers, parsers, Arrow) is imported only when it checks, discovers or
 * reads, so that loading the connector — to validate a job, or to print `--help` — stays fast.
 * `load` is called at most once.
 */
export function lazyExtractor<C>(head: ExtractorHead<C>, load: () => Promise<Extractor<C>>): Extractor<C> {
  let loaded: Promise<Extractor<C>> | undefined;
  const runtime = (): Promise<Extractor<C>> => (loaded ??= load());
  return {
    specificationVersion: 'v1',
    ...head,
    async check(config, ctx) {
      return (await runtime()).check(config, ctx);
    },
    async discover(config, ctx) {
      return (await runtime()).discover(config, ctx);
    },
    async *read(config, request, ctx) {
      yield* (await runtime()).read(config, request, ctx);
    },
  };
}

/** A sink whose runtime is imported only when it checks or opens a stream (see {@link lazyExtractor}). */
export function lazySink<C>(head: Pick<Sink<C>, 'spec' | 'configSchema'>, load: () => Promise<Sink<C>>): Sink<C> {
  let loaded: Promise<Sink<C>> | undefined;
  const runtime = (): Promise<Sink<C>> => (loaded ??= load());
  return {
    specificationVersion: 'v1',
    ...head,
    async check(config, ctx) {
      return (await runtime()).check(config, ctx);
    },
    async open(config, stream, ctx) {
      return (await runtime()).open(config, stream, ctx);
    },
  };
}
