import { describe, expect, it } from 'vitest';
import { parsePluginRef } from './plugins.js';

const where = { file: 'jobs/a.yaml', path: 'source.custom_reader', line: 7 };

describe('parsePluginRef', () => {
  it('splits the export name at the last colon', () => {
    expect(parsePluginRef('plugins/reader.mjs:Reader', where)).toEqual({ text: 'plugins/reader.mjs:Reader', file: 'plugins/reader.mjs', exportName: 'Reader', language: 'javascript' });
    expect(parsePluginRef('C:\\plugins\\reader.js:Reader', where)).toMatchObject({ file: 'C:\\plugins\\reader.js', exportName: 'Reader' });
    expect(parsePluginRef('C:\\plugins\\reader.js', where)).toMatchObject({ file: 'C:\\plugins\\reader.js', exportName: 'default' });
  });

  it('a JS file without an export name means its default export; a Python file needs its class', () => {
    expect(parsePluginRef(' plugins/reader.cjs ', where)).toMatchObject({ file: 'plugins/reader.cjs', exportName: 'default' });
    expect(parsePluginRef('reader.py:MyReader', where)).toMatchObject({ language: 'python', exportName: 'MyReader' });
    expect(() => parsePluginRef('reader.py', where)).toThrow(/a Python plugin needs its class: 'reader\.py:ClassName'/);
  });

  it('names the job file, line and key when the reference cannot be run', () => {
    const error = (() => {
      try {
        parsePluginRef('target/release/libreader.so:create_reader', where);
      } catch (e) {
        return e as { file: string; line: number; path: string; message: string };
      }
      return undefined;
    })();
    expect(error).toMatchObject({ file: 'jobs/a.yaml', line: 7, path: 'source.custom_reader' });
    expect(error?.message).toMatch(/is a Rust \(native\) plugin, which Dativo does not run; write the reader as an Extractor in JavaScript/);
    expect(() => parsePluginRef('reader.rb:Reader', where)).toThrow(/'reader\.rb' is not a plugin file Dativo runs: expected a JavaScript module \(\.mjs, \.js, \.cjs\) or a v1 Python reader \(\.py\)/);
    expect(() => parsePluginRef(42, where)).toThrow(/expected 'path\/to\/plugin\.mjs:ExportName'/);
  });
});
