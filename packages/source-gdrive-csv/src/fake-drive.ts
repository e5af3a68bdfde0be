// A Google Drive v3 server for tests (not part of the package's entry points), written from the
// Drive discovery document in ../shared/reference/google/drive__v3.json: `files.list` (the
// `'<id>' in parents and trashed = false` query, `pageSize` / `pageToken` / `nextPageToken`),
// `files.get` (metadata, and `alt=media` downloads honouring `Range` with 206 and
// `Content-Range`), `files.export` (a Google Sheet as `text/csv`), Google's error body
// (`{ error: { code, message, errors: [{ domain, reason, message }], status } }`) with 403
// `userRateLimitExceeded`, and a service account (@dativo/testing's fakeGoogleAccount).
import { DiscoveryContract, fakeGoogleAccount, googleDiscovery, type FakeGoogleAccount, googleErrorReply as googleError, startHttpServer, type FakeHttpServer, type HttpReply } from '@dativo/testing/http';

export const SHEET_MIME = 'application/vnd.google-apps.spreadsheet';
export const FOLDER_MIME = 'application/vnd.google-apps.folder';

export interface FakeFile {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  modifiedTime: number;
  trashed?: boolean;
  /** The bytes of a file, or the CSV a Sheet exports to. */
  content?: Buffer;
}

export interface FakeDrive {
  url: string;
  /** The API root to give Google's client (`rootUrl`). */
  root: string;
  http: FakeHttpServer;
  files: Map<string, FakeFile>;
  /** A service account key file's JSON whose `token_uri` is this server's. */
  serviceAccountKey: Record<string, string>;
  /** Serves `Range` requests (a server that ignores them answers 200 with the whole file). */
  honourRange: boolean;
  /** Ids the credentials may not read (403 insufficientFilePermissions). */
  forbidden: Set<string>;
  add(file: Omit<FakeFile, 'modifiedTime' | 'parents'> & { parents?: string[]; modifiedTime?: number }): FakeFile;
  /** Replaces a file's content and bumps its modified time. */
  change(id: string, content: Buffer, at?: number): void;
  /** Tokens the token endpoint issued. */
  readonly tokensIssued: number;
  close(): Promise<void>;
}

/** Parses the subset of Drive's query language the fake answers: clauses joined by `and`. */
function matcher(q: string | null): ((f: FakeFile) => boolean) | HttpReply {
  if (!q) return () => true;
  const tests: Array<(f: FakeFile) => boolean> = [];
  for (const clause of q.split(/\s+and\s+/i)) {
    const c = clause.trim();
    let m: RegExpExecArray | null;
    if ((m = /^'((?:[^'\\]|\\.)*)' in parents$/.exec(c))) {
      const parent = (m[1] as string).replace(/\\(.)/g, '$1');
      tests.push((f) => f.parents.includes(parent));
    } else if ((m = /^trashed\s*=\s*(true|false)$/.exec(c))) {
      const want = m[1] === 'true';
      tests.push((f) => (f.trashed ?? false) === want);
    } else if ((m = /^modifiedTime\s*(>=|>|<|<=)\s*'([^']+)'$/.exec(c))) {
      const [op, at] = [m[1] as string, Date.parse(m[2] as string)];
      tests.push((f) => (op === '>' ? f.modifiedTime > at : op === '>=' ? f.modifiedTime >= at : op === '<' ? f.modifiedTime < at : f.modifiedTime <= at));
    } else return googleError(400, 'INVALID_ARGUMENT', 'invalid', `Invalid Value: q (the fake does not know '${c}')`);
  }
  return (f) => tests.every((t) => t(f));
}

export async function startFakeDrive(): Promise<FakeDrive> {
  const http = await startHttpServer();
  const account = fakeGoogleAccount(http);
  let nextId = 1;
  const fake: FakeDrive = {
    url: http.url,
    root: `${http.url}/`,
    http,
    files: new Map(),
    serviceAccountKey: account.serviceAccountKey,
    honourRange: true,
    forbidden: new Set(),
    get tokensIssued() {
      return account.tokensIssued;
    },
    add(file) {
      const f: FakeFile = { parents: [], modifiedTime: Date.UTC(2025, 0, 1) + nextId++ * 1000, ...file };
      fake.files.set(f.id, f);
      return f;
    },
    change(id, content, at = Date.now()) {
      const f = fake.files.get(id);
      if (!f) throw new Error(`no file ${id}`);
      f.content = content;
      f.modifiedTime = at;
    },
    close: () => http.close(),
  };

  const contract = new DiscoveryContract(googleDiscovery('drive__v3'));
  const authorise = (req: Parameters<FakeGoogleAccount['check']>[0]) => contract.violation(req) ?? account.check(req);
  const find = (id: string): FakeFile | HttpReply => {
    const f = fake.files.get(id);
    if (!f) return googleError(404, 'NOT_FOUND', 'notFound', `File not found: ${id}.`);
    if (fake.forbidden.has(id)) return googleError(403, 'PERMISSION_DENIED', 'insufficientFilePermissions', 'The user does not have sufficient permissions for this file.');
    return f;
  };
  const meta = (f: FakeFile) => ({
    kind: 'drive#file',
    id: f.id,
    name: f.name,
    mimeType: f.mimeType,
    parents: f.parents,
    trashed: f.trashed ?? false,
    modifiedTime: new Date(f.modifiedTime).toISOString(),
    ...(f.mimeType !== SHEET_MIME && f.mimeType !== FOLDER_MIME ? { size: String(f.content?.length ?? 0) } : {}),
  });

  http.route('GET', '/drive/v3/files', (req) => {
    const refused = authorise(req);
    if (refused) return refused;
    const test = matcher(req.query.get('q'));
    if (typeof test !== 'function') return test;
    const size = Number(req.query.get('pageSize') ?? 100);
    if (!Number.isInteger(size) || size < 1 || size > 1000) return googleError(400, 'INVALID_ARGUMENT', 'invalid', `Invalid Value: pageSize ${size}`);
    const all = [...fake.files.values()].filter(test).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const from = Number(req.query.get('pageToken') ?? 0);
    const page = all.slice(from, from + size);
    return { body: { kind: 'drive#fileList', incompleteSearch: false, files: page.map(meta), ...(from + size < all.length ? { nextPageToken: String(from + size) } : {}) } };
  });

  http.route('GET', '/drive/v3/files/:id', (req, params) => {
    const refused = authorise(req);
    if (refused) return refused;
    const f = find(params.id as string);
    if (!('id' in f)) return f;
    if (req.query.get('alt') !== 'media') return { body: meta(f) };
    if (f.mimeType === SHEET_MIME) return googleError(403, 'PERMISSION_DENIED', 'fileNotDownloadable', 'Only files with binary content can be downloaded. Use Export with Docs Editors files.');
    const content = f.content ?? Buffer.alloc(0);
    const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    if (range && fake.honourRange) {
      const start = Number(range[1]);
      if (start >= content.length && content.length > 0) return { status: 416, body: '' };
      return { status: 206, headers: { 'content-type': 'text/csv', 'content-range': `bytes ${start}-${content.length - 1}/${content.length}` }, body: content.subarray(start) };
    }
    return { headers: { 'content-type': 'text/csv' }, body: content };
  });

  http.route('GET', '/drive/v3/files/:id/export', (req, params) => {
    const refused = authorise(req);
    if (refused) return refused;
    const f = find(params.id as string);
    if (!('id' in f)) return f;
    if (f.mimeType !== SHEET_MIME) return googleError(403, 'PERMISSION_DENIED', 'fileNotExportable', 'Export only supports Docs Editors files.');
    if (req.query.get('mimeType') !== 'text/csv') return googleError(400, 'INVALID_ARGUMENT', 'badRequest', `The requested conversion is not supported: ${req.query.get('mimeType')}`);
    return { headers: { 'content-type': 'text/csv' }, body: f.content ?? Buffer.alloc(0) };
  });
  return fake;
}
