import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asBytes, bytesEqual, plainStringEnd } from '../../src/ingest/formats/json-bytes.js';

describe('json-bytes', () => {
  it('plainStringEnd should give the index of the closing quote of a plain ASCII string', () => {
    const b = asBytes('{"ab":"x y-Z_9.:~"}');
    assert.equal(plainStringEnd(b, 2, b.length), 4);
    assert.equal(plainStringEnd(b, 7, b.length), 17);
    assert.equal(plainStringEnd(asBytes('""'), 1, 2), 1); // the empty string
  });

  it('plainStringEnd should decline escapes, controls, non-ASCII bytes and an unclosed string with -1', () => {
    for (const text of ['"a\\"b"', '"a\tb"', '"a\nb"', '"a\x7fb"', '"a\x00b"', '"abc']) {
      const b = asBytes(text);
      assert.equal(plainStringEnd(b, 1, b.length), -1, JSON.stringify(text));
    }
    const utf8 = Buffer.from('"pé"');
    assert.equal(plainStringEnd(utf8, 1, utf8.length), -1);
    // The closing quote must lie before the end given, not merely in the buffer.
    const b = asBytes('"abc"');
    assert.equal(plainStringEnd(b, 1, 4), -1);
    assert.equal(plainStringEnd(b, 1, 5), 4);
  });

  it('bytesEqual should compare a span with a word, lengths included', () => {
    const b = asBytes('xclickx');
    assert.equal(bytesEqual(b, 1, 6, asBytes('click')), true);
    assert.equal(bytesEqual(b, 1, 5, asBytes('click')), false);
    assert.equal(bytesEqual(b, 0, 5, asBytes('click')), false);
  });
});
