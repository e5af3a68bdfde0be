// Deterministic benchmark CSV: N rows × 10 columns (~185 bytes a row), with quoted fields,
// escaped quotes, decimals, doubles, booleans, dates and timestamps. 2M rows ≈ 370 MB.
import { createWriteStream } from 'node:fs';

export const BENCH_COLUMNS = [
  { name: 'id', type: 'bigint', duck: 'BIGINT' },
  { name: 'customer_id', type: 'integer', duck: 'INTEGER' },
  { name: 'name', type: 'string', duck: 'VARCHAR' },
  { name: 'email', type: 'string', duck: 'VARCHAR' },
  { name: 'amount', type: 'decimal(12,2)', duck: 'DECIMAL(12,2)' },
  { name: 'score', type: 'double', duck: 'DOUBLE' },
  { name: 'active', type: 'boolean', duck: 'BOOLEAN' },
  { name: 'signup_date', type: 'date', duck: 'DATE' },
  { name: 'updated_at', type: 'timestamp', duck: 'TIMESTAMP' },
  { name: 'note', type: 'string', duck: 'VARCHAR' },
];

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima', 'mike', 'november'];
const pad2 = (n) => (n < 10 ? `0${n}` : `${n}`);

export async function generateCsv(file, rows) {
  let a = 42;
  const r = () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = createWriteStream(file, { highWaterMark: 4 << 20 });
  const write = (s) => new Promise((resolve) => (out.write(s) ? resolve() : out.once('drain', resolve)));
  await write(`${BENCH_COLUMNS.map((c) => c.name).join(',')}\n`);
  const day0 = Date.UTC(2020, 0, 1);
  const ts0 = Date.UTC(2023, 0, 1);
  let chunk = '';
  for (let i = 1; i <= rows; i++) {
    const w1 = WORDS[(r() * WORDS.length) | 0];
    const w2 = WORDS[(r() * WORDS.length) | 0];
    const d = new Date(day0 + ((r() * 1500) | 0) * 86_400_000);
    const t = new Date(ts0 + Math.floor(r() * 3e10));
    const date = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
    const ms = t.getUTCMilliseconds();
    const stamp = `${t.getUTCFullYear()}-${pad2(t.getUTCMonth() + 1)}-${pad2(t.getUTCDate())} ${pad2(t.getUTCHours())}:${pad2(t.getUTCMinutes())}:${pad2(t.getUTCSeconds())}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}`;
    chunk += `${i},${(r() * 100000) | 0},${w1} ${w2},${w1}.${w2}${i}@example.com,${(r() * 100000).toFixed(2)},${r() * 1000},${r() < 0.5},${date},${stamp},"${w1} ${w2} note, with ""quotes"" and ${(r() * 1e6) | 0} units of ${w2} and ${w1}"\n`;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
}
