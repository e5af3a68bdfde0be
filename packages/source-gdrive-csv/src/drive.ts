import type { Readable } from 'node:stream';
import { googleAuth, googleCall, type Auth, type GoogleCallOptions } from '@dativo/api-kit';
import { DativoError, type RunContext } from '@dativo/core';
import { drive, type drive_v3 } from '@googleapis/drive';
import type { GdriveCsvConfig } from './config.js';

export const SHEET_MIME = 'application/vnd.google-apps.spreadsheet';
export const FOLDER_MIME = 'application/vnd.google-apps.folder';
const FIELDS = 'id,name,mimeType,modifiedTime,size,md5Checksum,trashed,parents,driveId';

export interface DriveFile {
  id: string;
  name: string;
  mimeType: string;
  /** Epoch ms. */
  modified: number;
  size?: number;
  /** The stream it feeds (its `files:` entry's `object`), when named. */
  object?: string;
}

export interface Download {
  /** 206 when the range was honoured. */
  status: number;
  body: Readable;
}

/** The Drive v3 client (Google's own) behind the run's resilience, its credentials from api-kit. */
export class DriveApi {
  private readonly client: drive_v3.Drive;
  private readonly auth: Auth;

  constructor(
    private readonly config: GdriveCsvConfig,
    private readonly ctx: RunContext,
  ) {
    this.client = drive({ version: 'v3', rootUrl: config.api_root, retry: false } as drive_v3.Options);
    this.auth = googleAuth(config, ['https://www.googleapis.com/auth/drive.readonly']);
  }

  /** One request with the current token (renewed once on a 401), retried by the run's resilience. */
  private call<T>(endpoint: string, resource: string, fn: (options: GoogleCallOptions) => Promise<T>): Promise<T> {
    return googleCall(this.auth, this.ctx, { endpoint, resource, timeoutMs: this.config.timeout_seconds * 1000 }, fn);
  }

  async file(id: string): Promise<DriveFile> {
    const res = await this.call('GET drive/v3/files/{fileId}', `file ${id}`, (o) => this.client.files.get({ fileId: id, fields: FIELDS, supportsAllDrives: this.config.shared_drives }, o));
    if (res.data.trashed) throw new DativoError(`file ${id} (${res.data.name}) is in the trash`, { kind: 'config', code: 'GDRIVE_TRASHED' });
    return toFile(res.data);
  }

  /** The files of a folder (and its sub-folders when `recursive`), paged. */
  async *folder(id: string, recursive: boolean): AsyncGenerator<DriveFile> {
    const pending = [id];
    const seen = new Set<string>();
    while (pending.length) {
      const folder = pending.shift() as string;
      if (seen.has(folder)) continue;
      seen.add(folder);
      let pageToken: string | undefined;
      do {
        const token = pageToken;
        const shared = this.config.shared_drives;
        const res = await this.call('GET drive/v3/files', `folder ${folder}`, (o) =>
          this.client.files.list({ q: `'${folder.replace(/['\\]/g, '\\$&')}' in parents and trashed = false`, fields: `nextPageToken, files(${FIELDS})`, pageSize: this.config.page_size, ...(token ? { pageToken: token } : {}), supportsAllDrives: shared, includeItemsFromAllDrives: shared, orderBy: 'name' }, o),
        );
        for (const f of res.data.files ?? []) {
          if (f.mimeType === FOLDER_MIME) {
            if (recursive && f.id) pending.push(f.id);
          } else yield toFile(f);
        }
        pageToken = res.data.nextPageToken ?? undefined;
      } while (pageToken);
    }
  }

  /** The file's bytes from `offset` (a Google Sheet: exported as CSV, whole). */
  async open(file: DriveFile, offset: number): Promise<Download> {
    const resource = `file ${file.id} (${file.name})`;
    if (file.mimeType === SHEET_MIME) {
      const res = await this.call('GET drive/v3/files/{fileId}/export', resource, (o) => this.client.files.export({ fileId: file.id, mimeType: 'text/csv' }, { ...o, responseType: 'stream' }));
      return { status: res.status, body: res.data as unknown as Readable };
    }
    const res = await this.call('GET drive/v3/files/{fileId}?alt=media', resource, (o) =>
      this.client.files.get({ fileId: file.id, alt: 'media', supportsAllDrives: this.config.shared_drives }, { ...o, responseType: 'stream', headers: { ...o.headers, ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) } }),
    );
    return { status: res.status, body: res.data as unknown as Readable };
  }
}

function toFile(f: drive_v3.Schema$File): DriveFile {
  return { id: f.id as string, name: f.name ?? (f.id as string), mimeType: f.mimeType ?? '', modified: Date.parse(f.modifiedTime ?? '') || 0, ...(f.size ? { size: Number(f.size) } : {}) };
}

/**
 * A file's bytes from `start`, as one stream however often the download breaks: a broken download
 * is asked again from the byte it reached (`Range`); a server that answers the whole file instead
 * has the bytes already delivered skipped, so no byte is delivered twice or missed.
 */
export async function* resumableDownload(
  open: (offset: number) => Promise<Download>,
  start: number,
  options: {
    retries: number;
    what: string;
    signal: AbortSignal;
    onBreak?: (at: number, error: unknown) => void;
    /** The file's size from its metadata: a body that ends cleanly before it is a break (asked again from there), never the end of the file. */
    size?: number;
  },
): AsyncGenerator<Buffer> {
  let position = start;
  let breaks = 0;
  for (;;) {
    const { status, body } = await open(position);
    let skip = position > 0 && status !== 206 ? position : 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        let c = chunk;
        if (skip > 0) {
          if (c.length <= skip) {
            skip -= c.length;
            continue;
          }
          c = c.subarray(skip);
          skip = 0;
        }
        position += c.length;
        yield c;
      }
      if (skip > 0) throw new DativoError(`${options.what}: the file is now shorter than the ${position} bytes already read; it changed during the run — rerun to read its new version`, { kind: 'permanent', code: 'GDRIVE_FILE_CHANGED' });
      // A complete-looking answer short of the file's size (a proxy or server that cut the body): not the end.
      if (options.size !== undefined && position < options.size) throw new Error(`the download ended at byte ${position} of ${options.size}`);
      return;
    } catch (error) {
      if (options.signal.aborted || DativoError.isInstance(error) || ++breaks > options.retries) {
        if (DativoError.isInstance(error) || options.signal.aborted) throw error;
        throw new DativoError(`${options.what}: the download broke ${breaks} times (last at byte ${position}): ${(error as Error).message}`, { kind: 'network', code: 'GDRIVE_DOWNLOAD', cause: error });
      }
      options.onBreak?.(position, error);
    } finally {
      body.destroy();
    }
  }
}
