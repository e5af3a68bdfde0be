import { DativoError } from '@dativo/core';

/**
 * How a list endpoint pages, as data: a stream declares one and the kit does the rest.
 * - `cursor` from the last item: the next request sends `param=<last item's idField>` while the
 *   response's `hasMoreField` is true (Stripe: `starting_after`, `has_more`).
 * - `cursor` from the response: the next request sends `param=<value at path>` (HubSpot:
 *   `after` = `paging.next.after`); no value means the end.
 * - `next_link`: the response holds the next page's URL at `path` (`links.next`, `@odata.nextLink`).
 * - `offset`: `param` advances by the items received, until a short page.
 * - `page`: `param` counts pages from `first`, until a short or empty page.
 */
export type Pagination =
  | { kind: 'cursor'; from: 'last_item'; param: string; idField: string; hasMoreField: string }
  | { kind: 'cursor'; from: 'response'; param: string; path: string }
  | { kind: 'next_link'; path: string }
  | { kind: 'offset'; param: string }
  | { kind: 'page'; param: string; first?: number };

export interface PageSpec {
  /** Where the items are in a response (`data`, `results`; '' for a bare array). */
  items: string;
  pagination: Pagination;
  /** Items asked for per request (the API's maximum is usually best). */
  pageSize: number;
  /** The query parameter that carries `pageSize` (`limit`). */
  limitParam: string;
}

export interface Page<T> {
  items: T[];
  /** The token of the next page, or null at the end. */
  next: string | null;
}

/** Reads a dotted path (`paging.next.after`) out of a parsed response. */
export function valueAt(body: unknown, path: string): unknown {
  if (path === '') return body;
  let v: unknown = body;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** The query for the page with `token` (null: the first page). A `next_link` token is a whole URL: use it as is. */
export function pageQuery(spec: PageSpec, token: string | null): Record<string, string> {
  const q: Record<string, string> = { [spec.limitParam]: String(spec.pageSize) };
  const p = spec.pagination;
  if (p.kind === 'page') q[p.param] = token ?? String(p.first ?? 1);
  else if (token !== null && p.kind !== 'next_link') q[p.param] = token;
  return q;
}

/**
 * The items of a response and the token of the page after it. A response that says there is more
 * but gives no way to get it fails loudly: a list is never cut short in silence.
 */
export function readPage<T>(spec: PageSpec, body: unknown, token: string | null, endpoint: string): Page<T> {
  const items = valueAt(body, spec.items);
  if (!Array.isArray(items)) throw new DativoError(`${endpoint}: the response has no list at '${spec.items || '(body)'}'`, { kind: 'permanent', code: 'API_BAD_PAGE' });
  const p = spec.pagination;
  let next: string | null = null;
  switch (p.kind) {
    case 'cursor':
      if (p.from === 'last_item') {
        const more = valueAt(body, p.hasMoreField);
        if (more === true) {
          const last = items.at(-1) as Record<string, unknown> | undefined;
          const id = last?.[p.idField];
          if (typeof id !== 'string' && typeof id !== 'number') {
            throw new DativoError(`${endpoint}: the response says ${p.hasMoreField} but ${items.length ? `its last item has no '${p.idField}'` : 'holds no items'}; the list cannot be read to its end`, { kind: 'permanent', code: 'API_PAGINATION_BROKEN' });
          }
          next = String(id);
        }
      } else {
        const v = valueAt(body, p.path);
        next = typeof v === 'string' || typeof v === 'number' ? String(v) : null;
      }
      break;
    case 'next_link': {
      const v = valueAt(body, p.path);
      next = typeof v === 'string' && v !== '' ? v : null;
      break;
    }
    case 'offset':
      next = items.length >= spec.pageSize ? String(Number(token ?? 0) + items.length) : null;
      break;
    case 'page':
      next = items.length >= spec.pageSize ? String(Number(token ?? p.first ?? 1) + 1) : null;
      break;
  }
  if (next !== null && next === token) throw new DativoError(`${endpoint}: the next page is the page just read (${p.kind} ${next}); the API does not advance`, { kind: 'permanent', code: 'API_PAGINATION_STUCK' });
  return { items: items as T[], next };
}
