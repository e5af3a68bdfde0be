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

/** A seeded pseudo-random generator (mulberry32): the same files on every machine. */
function random(seed) {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function generateCsv(file, rows) {
  const r = random(42);
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

// --- The text-heavy table (issue 16): unique, address-like strings dominate the bytes ---

/** 10 columns: ids, integers, doubles, a timestamp and four text columns of 15–90 characters. */
export const TEXT_COLUMNS = [
  { name: 'id', type: 'bigint', duck: 'BIGINT', pg: 'bigint PRIMARY KEY', my: 'BIGINT PRIMARY KEY' },
  { name: 'account_id', type: 'integer', duck: 'INTEGER', pg: 'integer', my: 'INT' },
  { name: 'quantity', type: 'integer', duck: 'INTEGER', pg: 'integer', my: 'INT' },
  { name: 'price', type: 'double', duck: 'DOUBLE', pg: 'double precision', my: 'DOUBLE' },
  { name: 'weight', type: 'double', duck: 'DOUBLE', pg: 'double precision', my: 'DOUBLE' },
  { name: 'created_at', type: 'timestamp', duck: 'TIMESTAMP', pg: 'timestamp', my: 'DATETIME(3)' },
  { name: 'email', type: 'string', duck: 'VARCHAR', pg: 'text', my: 'TEXT' },
  { name: 'full_name', type: 'string', duck: 'VARCHAR', pg: 'text', my: 'TEXT' },
  { name: 'street_address', type: 'string', duck: 'VARCHAR', pg: 'text', my: 'TEXT' },
  { name: 'comment', type: 'string', duck: 'VARCHAR', pg: 'text', my: 'TEXT' },
];

const FIRST = ['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen', 'Christopher', 'Lisa', 'Daniel', 'Nancy', 'Matthew', 'Betty', 'Anthony', 'Margaret', 'Mark', 'Sandra', 'Donald', 'Ashley'];
const LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker', 'Young'];
const STREETS = ['Maple', 'Oak', 'Pine', 'Cedar', 'Elm', 'Washington', 'Lake', 'Hill', 'Park', 'Sunset', 'Lincoln', 'Jefferson', 'Highland', 'Ridge', 'Meadow', 'Forest', 'River', 'Church', 'Spring', 'Willow'];
const KINDS = ['Street', 'Avenue', 'Boulevard', 'Lane', 'Road', 'Drive', 'Court', 'Place', 'Terrace', 'Way'];
const CITIES = ['Springfield', 'Riverside', 'Fairview', 'Franklin', 'Greenville', 'Bristol', 'Clinton', 'Georgetown', 'Salem', 'Madison', 'Arlington', 'Ashland', 'Burlington', 'Manchester', 'Oxford', 'Milton'];
const STATES = ['CA', 'TX', 'NY', 'FL', 'IL', 'PA', 'OH', 'GA', 'NC', 'MI', 'NJ', 'VA', 'WA', 'AZ', 'MA', 'TN'];
const DOMAINS = ['example.com', 'mail.example.org', 'corp.example.net', 'inbox.example.io', 'post.example.co.uk'];
const VOCAB = ['order', 'delivered', 'late', 'customer', 'asked', 'refund', 'partial', 'shipment', 'warehouse', 'replacement', 'invoice', 'credit', 'priority', 'handling', 'damaged', 'box', 'contacted', 'support', 'again', 'confirmed', 'address', 'changed', 'before', 'dispatch', 'signature', 'required', 'gift', 'wrapped', 'returned', 'courier'];

/** A deterministic CSV of the text-heavy table (~260 bytes a row; 2M rows ≈ 500 MB). */
export async function generateTextCsv(file, rows) {
  const r = random(7);
  const pick = (list) => list[(r() * list.length) | 0];
  const out = createWriteStream(file, { highWaterMark: 4 << 20 });
  const write = (s) => new Promise((resolve) => (out.write(s) ? resolve() : out.once('drain', resolve)));
  await write(`${TEXT_COLUMNS.map((c) => c.name).join(',')}\n`);
  const ts0 = Date.UTC(2022, 0, 1);
  let chunk = '';
  for (let i = 1; i <= rows; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const t = new Date(ts0 + Math.floor(r() * 9e10));
    const ms = t.getUTCMilliseconds();
    const stamp = `${t.getUTCFullYear()}-${pad2(t.getUTCMonth() + 1)}-${pad2(t.getUTCDate())} ${pad2(t.getUTCHours())}:${pad2(t.getUTCMinutes())}:${pad2(t.getUTCSeconds())}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}`;
    const email = `${first.toLowerCase()}.${last.toLowerCase()}${i}@${pick(DOMAINS)}`;
    const name = `${first} ${pick(FIRST).slice(0, 1)}. ${last}`;
    const address = `"${1 + ((r() * 9999) | 0)} ${pick(STREETS)} ${pick(KINDS)}, Apt ${1 + ((r() * 400) | 0)}, ${pick(CITIES)}, ${pick(STATES)} ${String(10000 + ((r() * 89999) | 0))}"`;
    const words = 4 + ((r() * 9) | 0);
    let comment = `#${i}`;
    for (let w = 0; w < words; w++) comment += ` ${pick(VOCAB)}`;
    chunk += `${i},${(r() * 500000) | 0},${1 + ((r() * 50) | 0)},${(r() * 10000).toFixed(2)},${r() * 100},${stamp},${email},${name},${address},${comment}\n`;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
}
