import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Redactor } from './log/redact.js';
import { ChainSecretResolver, EnvSecretResolver, FileSecretResolver, storeSecret } from './secrets.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dativo-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secret stores', () => {
  it('a file store keeps a new value atomically, readable by the owner only, and redacts it', async () => {
    const redactor = new Redactor();
    const files = new FileSecretResolver(dir, redactor);
    expect(await storeSecret(files, 'REFRESH_TOKEN', 'rt-rotated-0123456789')).toBe(true);
    expect(readFileSync(path.join(dir, 'REFRESH_TOKEN'), 'utf8')).toBe('rt-rotated-0123456789\n');
    expect(statSync(path.join(dir, 'REFRESH_TOKEN')).mode & 0o777).toBe(0o600);
    expect(await files.get('REFRESH_TOKEN')).toBe('rt-rotated-0123456789');
    expect(redactor.redact('token rt-rotated-0123456789 used')).not.toContain('rt-rotated-0123456789');
    await expect(files.set('../escape', 'x')).rejects.toThrow("secret name '../escape' may only hold");
  });

  it('the environment cannot keep values; a chain stores where the secret lives', async () => {
    const env = new EnvSecretResolver({ A: '1' });
    expect(await storeSecret(env, 'A', '2')).toBe(false);
    const other = mkdtempSync(path.join(tmpdir(), 'dativo-secrets-'));
    try {
      const chain = new ChainSecretResolver([env, new FileSecretResolver(other), new FileSecretResolver(dir)]);
      await storeSecret(chain, 'REFRESH_TOKEN', 'rt-next-9876543210');
      expect(readFileSync(path.join(dir, 'REFRESH_TOKEN'), 'utf8')).toBe('rt-next-9876543210\n');
      await storeSecret(chain, 'NEW_ONE', 'v');
      expect(readFileSync(path.join(other, 'NEW_ONE'), 'utf8')).toBe('v\n');
      expect(await storeSecret(new ChainSecretResolver([env]), 'A', '3')).toBe(false);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
