// Unit tests for the alknet/call frame codec (CALL-1): node --test clients/js/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameDecoder, encodeFrame, spkiFingerprint, CallError } from '../alknet-call.mjs';

const frame = (text) => {
  const body = Buffer.from(text, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
};
const rawHeader = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };

test('encodes the example frames of docs/call-protocol.md byte for byte', () => {
  const hello = encodeFrame({ type: 'hello', client: 'demo', protocol: 1 });
  assert.equal(hello.subarray(0, 20).toString('hex'), '0000002d7b2274797065223a2268656c6c6f222c');
  assert.equal(hello.length, 4 + 0x2d);
  const req = encodeFrame({ type: 'call.requested', id: '1', op: 'demo/echo', input: { text: 'hi' } });
  assert.equal(req.readUInt32BE(0), 0x49);
  assert.equal(req.subarray(4).toString(), '{"type":"call.requested","id":"1","op":"demo/echo","input":{"text":"hi"}}');
});

test('decodes the documented welcome frame', () => {
  const bytes = frame('{"type":"welcome","identity":{"id":"anonymous","displayName":"anonymous","scopes":["anonymous"]},"node":"SHA256:U2VKEYNXyO+odgxcVMWUi1a/95krxy0gGI+xpq9tiBQ","protocol":1}');
  assert.equal(bytes.readUInt32BE(0), 0xaa);
  const [env] = new FrameDecoder().push(bytes);
  assert.equal(env.type, 'welcome');
  assert.deepEqual(env.identity.scopes, ['anonymous']);
});

test('round-trips through encodeFrame', () => {
  const env = { type: 'call.event', id: '7', event: { n: 1, s: 'héllo ☃ 🚀' } };
  assert.deepEqual(new FrameDecoder().push(encodeFrame(env)), [env]);
});

test('reassembles frames delivered one byte at a time', () => {
  const bytes = Buffer.concat([
    frame('{"type":"call.responded","id":"1","output":{"text":"héllo 🚀"}}'),
    frame('{"type":"pong","id":"p"}'),
  ]);
  const dec = new FrameDecoder();
  const out = [];
  for (let i = 0; i < bytes.length; i++) {
    const got = dec.push(bytes.subarray(i, i + 1));
    if (i < bytes.length - 1 && out.length + got.length === 2) assert.fail('emitted a frame too early');
    out.push(...got);
  }
  assert.deepEqual(out, [
    { type: 'call.responded', id: '1', output: { text: 'héllo 🚀' } },
    { type: 'pong', id: 'p' },
  ]);
  assert.equal(dec.buffered, 0);
});

test('a frame completes exactly with its last byte', () => {
  const bytes = frame('{"type":"ping","id":"x"}');
  const dec = new FrameDecoder();
  assert.deepEqual(dec.push(bytes.subarray(0, bytes.length - 1)), []);
  assert.deepEqual(dec.push(bytes.subarray(bytes.length - 1)), [{ type: 'ping', id: 'x' }]);
});

test('decodes several frames in one chunk, keeping a trailing partial frame', () => {
  const f = [1, 2, 3].map((i) => frame(`{"type":"call.event","id":"1","event":${i}}`));
  const partial = frame('{"type":"call.completed","id":"1"}');
  const dec = new FrameDecoder();
  const out = dec.push(Buffer.concat([...f, partial.subarray(0, 6)]));
  assert.deepEqual(out.map((e) => e.event), [1, 2, 3]);
  assert.deepEqual(dec.push(partial.subarray(6)), [{ type: 'call.completed', id: '1' }]);
});

test('a header split across chunks', () => {
  const bytes = frame('{"type":"pong","id":"1"}');
  const dec = new FrameDecoder();
  assert.deepEqual(dec.push(bytes.subarray(0, 2)), []);
  assert.deepEqual(dec.push(bytes.subarray(2, 3)), []);
  assert.deepEqual(dec.push(bytes.subarray(3)), [{ type: 'pong', id: '1' }]);
});

const rejects = (bytes, code, opts = {}) => {
  const dec = new FrameDecoder(opts.max);
  assert.throws(() => dec.push(bytes), (e) => e instanceof CallError && e.code === code);
  // The decoder stays failed: the stream cannot be resynchronised.
  assert.throws(() => dec.push(frame('{"type":"ping","id":"1"}')), (e) => e.code === code);
};

test('a zero-length frame is BAD_FRAME', () => rejects(rawHeader(0), 'BAD_FRAME'));

test('a header over the maximum is refused before its body arrives', () => {
  rejects(rawHeader(1048577), 'FRAME_TOO_LARGE');
  rejects(rawHeader(0xffffffff), 'FRAME_TOO_LARGE');
  rejects(rawHeader(101), 'FRAME_TOO_LARGE', { max: 100 });
});

test('a frame of exactly the maximum is accepted', () => {
  const text = `{"type":"x","pad":"${'a'.repeat(100 - 21)}"}`;
  assert.equal(Buffer.byteLength(text), 100);
  assert.equal(new FrameDecoder(100).push(frame(text))[0].type, 'x');
});

test('invalid JSON is BAD_FRAME', () => rejects(frame('{"type":"ping",'), 'BAD_FRAME'));
test('invalid UTF-8 is BAD_FRAME', () => rejects(Buffer.concat([rawHeader(3), Buffer.from([0x22, 0xc3, 0x22])]), 'BAD_FRAME'));
test('JSON that is not an object is BAD_FRAME', () => {
  rejects(frame('[1,2]'), 'BAD_FRAME');
  rejects(frame('"hello"'), 'BAD_FRAME');
  rejects(frame('null'), 'BAD_FRAME');
});
test('an envelope without a string type is BAD_FRAME', () => rejects(frame('{"id":"1"}'), 'BAD_FRAME'));

test('frames after valid ones in the same chunk still fail the chunk', () => {
  const dec = new FrameDecoder();
  assert.throws(() => dec.push(Buffer.concat([frame('{"type":"pong","id":"1"}'), rawHeader(0)])), { code: 'BAD_FRAME' });
});

test('encodeFrame refuses a frame over the maximum', () => {
  assert.throws(() => encodeFrame({ type: 'x', pad: 'a'.repeat(200) }, 100), { code: 'FRAME_TOO_LARGE' });
});

test('spkiFingerprint is SHA256: + unpadded base64', () => {
  // sha256("") = e3b0c442...; base64 "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
  assert.equal(spkiFingerprint(Buffer.alloc(0)), 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU');
});
