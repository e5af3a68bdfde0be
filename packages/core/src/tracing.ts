import { context, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import type { DativoError } from './errors.js';

/**
 * The header that carries the run id to the APIs a run calls (where the client lets us add one), so a
 * provider's request logs can be matched with the run's own.
 */
export const RUN_ID_HEADER = 'X-Dativo-Run-Id';

/** The instrumentation scope of Dativo's spans. */
export const TRACER_NAME = '@dativo/core';

/**
 * Dativo's tracer. Until an OpenTelemetry SDK registers a tracer provider (the CLI does when the
 * `OTEL_EXPORTER_OTLP_*` variables are set), it hands out non-recording spans: no export, no cost
 * beyond a small object per span.
 */
export const tracer: Tracer = trace.getTracer(TRACER_NAME);

/** Starts a span as a child of `parent` (a root span without one). */
export function startSpan(name: string, attributes: Attributes, parent?: Span): Span {
  return tracer.startSpan(name, { attributes }, parent ? trace.setSpan(context.active(), parent) : context.active());
}

/** Ends a span, marking it failed with the error's kind and code (the message passes through `redact`). */
export function endSpan(span: Span, error?: DativoError, redact: (text: string) => string = (t) => t): void {
  if (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: redact(error.message) });
    span.setAttributes({ 'dativo.error.kind': error.kind, ...(error.code ? { 'dativo.error.code': error.code } : {}) });
  }
  span.end();
}
