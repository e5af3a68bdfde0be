import { DativoError } from '@dativo/core';
import type { ColumnInfo, TableRef } from './dialect.js';

/**
 * Splits `schema.table` into its parts. Parts may be quoted with `"…"` or `` `…` `` (doubling the
 * quote inside), so names with dots, spaces or quotes work: `"my.schema"."Order ""Items"""`.
 * Unquoted parts keep their case; matching against the catalog is exact first, then case-insensitive.
 */
export function parseTableName(text: string, where: string): TableRef {
  const parts: string[] = [];
  let i = 0;
  const s = text.trim();
  while (i <= s.length) {
    const c = s[i];
    if (c === '"' || c === '`') {
      let part = '';
      let j = i + 1;
      for (;;) {
        if (j >= s.length) throw new DativoError(`${where}: unterminated quoted name in '${text}'`, { kind: 'config' });
        if (s[j] === c) {
          if (s[j + 1] === c) {
            part += c;
            j += 2;
            continue;
          }
          break;
        }
        part += s[j];
        j++;
      }
      parts.push(part);
      i = j + 1;
    } else {
      let j = i;
      while (j < s.length && s[j] !== '.') j++;
      parts.push(s.slice(i, j).trim());
      i = j;
    }
    if (i >= s.length) break;
    if (s[i] !== '.') throw new DativoError(`${where}: expected '.' after a quoted name in '${text}'`, { kind: 'config' });
    i++;
  }
  if (parts.length === 0 || parts.length > 2 || parts.some((p) => p === '')) {
    throw new DativoError(`${where}: '${text}' is not a table name; expected table or schema.table`, { kind: 'config' });
  }
  return parts.length === 2 ? { schema: parts[0] as string, name: parts[1] as string } : { name: parts[0] as string };
}

export function formatTableRef(ref: TableRef): string {
  return ref.schema ? `${ref.schema}.${ref.name}` : ref.name;
}

/** Finds a column by exact name, then by case-insensitive name (when that is unambiguous). */
export function findColumn(columns: readonly ColumnInfo[], name: string): ColumnInfo | undefined {
  const exact = columns.find((c) => c.name === name);
  if (exact) return exact;
  const lower = name.toLowerCase();
  const matches = columns.filter((c) => c.name.toLowerCase() === lower);
  return matches.length === 1 ? matches[0] : undefined;
}

/** `a, b, c` (at most `max` names, then `… (N more)`), for messages. */
export function listNames(names: readonly string[], max = 25): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')}, … (${names.length - max} more)`;
}
