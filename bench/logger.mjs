#!/usr/bin/env node
// Benchmark for docs/adr/0006-logger.md: pino against a hand-written JSON logger (Dativo's logger
// before the ADR: merge the fields, redact, JSON.stringify, write), all writing JSON lines
// synchronously to /dev/null with the redaction Dativo promises (registered secret values masked
// wherever they appear, in the message and in fields; secret-named keys masked). pino's own `redact`
// works on fixed paths only, so the pino variant passes every record through the same Redactor (a
// `formatters.log` hook for fields, `hooks.logMethod` for the message); "pino, paths only" is shown
// for what pino costs without that guarantee. "JsonLogger" is Dativo's logger as shipped (pino inside).
//
//   node bench/logger.mjs [--lines 200000] [--runs 5]
import { openSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { JsonLogger, Redactor } from '@dativo/core';
import pino from 'pino';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '200000' }, runs: { type: 'string', default: '5' } } });
const lines = Number(values.lines);
const runs = Number(values.runs);
const secret = 'sk_test_51HbenchSecretValue000';
const base = { runId: '20261129T074731Z-f49c4541', tenant: 'acme', job: 'orders' };

function makeRedactor() {
  const r = new Redactor();
  r.addSecret(secret);
  return r;
}

const variants = {
  'hand-written': () => {
    const fd = openSync('/dev/null', 'w');
    const redactor = makeRedactor();
    const fields = { ...base, stream: 'orders' };
    return (i) => {
      const record = { time: new Date().toISOString(), level: 'info', msg: 'committed', ...fields, rows: i, files: 1, checkpoint: { v: 1, after: { m: 1732860000000 + i, p: `/data/orders-${i}.csv` } } };
      writeSync(fd, `${JSON.stringify(redactor.redact(record), (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
    };
  },
  JsonLogger: () => {
    const fd = openSync('/dev/null', 'w');
    const log = new JsonLogger({ fields: base, redactor: makeRedactor(), sink: { write: (line) => writeSync(fd, line) } }).child({ stream: 'orders' });
    return (i) => log.info('committed', { rows: i, files: 1, checkpoint: { v: 1, after: { m: 1732860000000 + i, p: `/data/orders-${i}.csv` } } });
  },
  'pino + Redactor': () => {
    const redactor = makeRedactor();
    const log = pino(
      {
        base,
        timestamp: pino.stdTimeFunctions.isoTime,
        messageKey: 'msg',
        formatters: { level: (label) => ({ level: label }), log: (obj) => redactor.redact(obj) },
        hooks: {
          logMethod(args, method) {
            if (typeof args[1] === 'string') args[1] = redactor.redactText(args[1]);
            return method.apply(this, args);
          },
        },
      },
      pino.destination({ dest: '/dev/null', sync: true }),
    ).child({ stream: 'orders' });
    return (i) => log.info({ rows: i, files: 1, checkpoint: { v: 1, after: { m: 1732860000000 + i, p: `/data/orders-${i}.csv` } } }, 'committed');
  },
  'pino, paths only': () => {
    const log = pino(
      { base, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'msg', formatters: { level: (label) => ({ level: label }) }, redact: ['password', '*.password', 'token', '*.token'] },
      pino.destination({ dest: '/dev/null', sync: true }),
    ).child({ stream: 'orders' });
    return (i) => log.info({ rows: i, files: 1, checkpoint: { v: 1, after: { m: 1732860000000 + i, p: `/data/orders-${i}.csv` } } }, 'committed');
  },
};

const results = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let run = 0; run < runs; run++) {
  for (const [name, make] of Object.entries(variants)) {
    const emit = make();
    for (let i = 0; i < 2000; i++) emit(i); // warm up
    const started = performance.now();
    for (let i = 0; i < lines; i++) emit(i);
    results[name].push(lines / ((performance.now() - started) / 1000));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ours = median(results['hand-written']);
console.log(`logger: ${lines} lines × ${runs} runs, JSON to /dev/null, median lines/s`);
for (const [name, xs] of Object.entries(results)) {
  const m = median(xs);
  console.log(`  ${name.padEnd(18)} ${Math.round(m).toLocaleString('en-US').padStart(10)} lines/s  (${(m / ours).toFixed(2)}× hand-written)`);
}
