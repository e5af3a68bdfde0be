import { describe, expect, it } from 'vitest';
import { parseJsonLossless as parseJson, stringifyJsonLossless as stringifyJson } from './json.js';

describe('lossless JSON', () => {
  it('keeps integers past 2^53 exact and everything else as JSON.parse does', () => {
    const text = '{"snapshot-id": 3051729675574597004, "small": 42, "neg": -9223372036854775808, "f": 1.5e3, "s": "a\\"b\\u00e9", "l": [true, false, null, {}], "e": []}';
    const parsed = parseJson(text) as Record<string, unknown>;
    expect(parsed['snapshot-id']).toBe(3051729675574597004n);
    expect(parsed.neg).toBe(-9223372036854775808n);
    expect(parsed).toMatchObject({ small: 42, f: 1500, s: 'a"bé', l: [true, false, null, {}], e: [] });
    expect(stringifyJson(parsed)).toBe('{"snapshot-id":3051729675574597004,"small":42,"neg":-9223372036854775808,"f":1500,"s":"a\\"bé","l":[true,false,null,{}],"e":[]}');
    expect(parseJson(stringifyJson(parsed))).toEqual(parsed);
  });

  it('rejects invalid JSON with a position', () => {
    expect(() => parseJson('{"a": 1,}')).toThrow(/invalid JSON at position 8/);
    expect(() => parseJson('[1] x')).toThrow('trailing characters');
  });
});
