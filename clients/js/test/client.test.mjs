// Client tests against an in-process mock node that follows docs/call-protocol.md.
// No Java needed: node --test clients/js/test/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { connect, FrameDecoder, encodeFrame, spkiFingerprint } from '../alknet-call.mjs';

// A throw-away self-signed Ed25519 certificate for the mock node (test use only).
const KEY = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIDXWPNhzAEDiNvPop6cZlkdnsJrAzrmD+C/8VV4gjL4w
-----END PRIVATE KEY-----`;
const CERT = `-----BEGIN CERTIFICATE-----
MIIBUzCCAQWgAwIBAgIUdjsiBXUvGeP7R2AsNQRj8FrtBO4wBQYDK2VwMB4xHDAa
BgNVBAMME2Fsa25ldC1qcy10ZXN0LW1vY2swIBcNMjYxMTIzMDkwMDI5WhgPMjEy
NjEwMzAwOTAwMjlaMB4xHDAaBgNVBAMME2Fsa25ldC1qcy10ZXN0LW1vY2swKjAF
BgMrZXADIQCPy38vwe1qATMl+racokY7b13rfQKesARzYqiY44iH96NTMFEwHQYD
VR0OBBYEFJXtk58KNun1yRzx+xpw98cL0HfVMB8GA1UdIwQYMBaAFJXtk58KNun1
yRzx+xpw98cL0HfVMA8GA1UdEwEB/wQFMAMBAf8wBQYDK2VwA0EAZUS3f6gernO8
pwXS5j3KDukUoJ8grRe93F51kzRWsj8L6JcpOUnyAJaSVZlOs5hBRDv6MyN2kaMB
6RQDXtxOAg==
-----END CERTIFICATE-----`;
const FP = spkiFingerprint(new X509Certificate(CERT).publicKey.export({ type: 'spki', format: 'der' }));
const KEY_OK = 'alk_test_good';

let server, port;
const seen = []; // every frame the mock received, for assertions

function mockNode(socket) {
  const dec = new FrameDecoder();
  const running = new Map();
  let session = false;
  // Writes a frame in two pieces (splitting the header) to exercise reassembly in the client.
  const send = (env) => { const b = encodeFrame(env); socket.write(b.subarray(0, 3)); socket.write(b.subarray(3)); };
  const end = (id, env) => { if (running.has(id)) { running.get(id)(); running.delete(id); send({ ...env, id }); } };
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    let envs;
    try { envs = dec.push(chunk); } catch (e) {
      send({ type: 'call.error', error: { code: e.code, message: e.message } }); return socket.end();
    }
    for (const env of envs) {
      seen.push(env);
      if (!session) {
        if (env.type !== 'hello' || env.auth !== KEY_OK) {
          send({ type: 'call.error', error: { code: 'UNAUTHENTICATED', message: 'unauthenticated' } });
          return socket.end();
        }
        session = true;
        send({ type: 'welcome', identity: { id: 'SHA256:abc', displayName: 'js-test', scopes: ['call'] }, node: FP, protocol: 1, future: 'ignored' });
        continue;
      }
      const { type, id, op, input } = env;
      if (type === 'ping') { send({ type: 'pong', id }); continue; }
      if (type === 'pong' && id === 'srv-ping') { send({ type: 'call.responded', id: 'srv-ping-ack', output: null }); continue; }
      if (type === 'call.aborted') { end(id, { type: 'call.error', error: { code: 'ABORTED', message: 'aborted' } }); continue; }
      if (type === 'call.responded' || type === 'call.error') { send({ type: 'call.event', id: 'cb-result', event: env }); continue; }
      if (type !== 'call.requested') continue;
      const timers = [];
      running.set(id, () => timers.forEach(clearTimeout));
      if (env.deadlineMs) timers.push(setTimeout(() => end(id, { type: 'call.error', error: { code: 'DEADLINE_EXCEEDED', message: 'deadline exceeded' } }), env.deadlineMs));
      if (op === 'demo/echo') {
        // Answer out of order: larger delays for lower ids.
        timers.push(setTimeout(() => end(id, { type: 'call.responded', output: input }), (input.delay ?? 0)));
      } else if (op === 'demo/sleep') {
        timers.push(setTimeout(() => end(id, { type: 'call.responded', output: { slept: input.ms } }), input.ms));
      } else if (op === 'demo/ticks') {
        for (let i = 1; i <= input.count; i++) timers.push(setTimeout(() => running.has(id) && send({ type: 'call.event', id, event: { tick: i } }), i * input.intervalMs));
        timers.push(setTimeout(() => end(id, { type: 'call.completed' }), (input.count + 1) * input.intervalMs));
      } else if (op === 'test/ping-me') {
        running.delete(id);
        send({ type: 'ping', id: 'srv-ping' });
      } else if (op === 'test/callback') {
        end(id, { type: 'call.responded', output: 'requested' });
        const nid = input.id ?? 'n1';
        send({ type: 'call.requested', id: nid, op: input.op, input: { x: 2 }, deadlineMs: input.deadlineMs });
        if (input.abortAfter) setTimeout(() => send({ type: 'call.aborted', id: nid }), input.abortAfter);
      } else if (op === 'test/garbage') {
        socket.write(Buffer.from([0, 0, 0, 0]));
      } else if (op === 'test/hangup') {
        socket.destroy();
      } else {
        end(id, { type: 'call.error', error: { code: 'NOT_FOUND', message: `no such operation: ${op}`, details: { op } } });
      }
    }
  });
}

before(async () => {
  server = tls.createServer({ key: KEY, cert: CERT, ALPNProtocols: ['alknet/call'], minVersion: 'TLSv1.3' }, mockNode);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
});
after(() => server.close());

const open = (extra = {}) => connect({ host: '127.0.0.1', port, fingerprint: FP, auth: KEY_OK, client: 'js-test/1', ...extra });

test('hello/welcome and echo', { timeout: 5000 }, async () => {
  const c = await open();
  try {
    assert.equal(c.identity.displayName, 'js-test');
    assert.equal(c.node, FP);
    const hello = seen.find((e) => e.type === 'hello');
    assert.deepEqual(hello, { type: 'hello', client: 'js-test/1', protocol: 1, auth: KEY_OK });
    assert.deepEqual(await c.call('demo/echo', { text: 'hi' }), { text: 'hi' });
  } finally { await c.close(); }
});

test('many calls in flight, answered out of order', { timeout: 5000 }, async () => {
  const c = await open();
  try {
    const calls = Array.from({ length: 100 }, (_, i) => c.call('demo/echo', { i, delay: (100 - i) % 17 }));
    assert.equal(new Set(calls.map((p) => p.id)).size, 100);
    assert.deepEqual((await Promise.all(calls)).map((o) => o.i), Array.from({ length: 100 }, (_, i) => i));
  } finally { await c.close(); }
});

test('subscription events then completion', { timeout: 5000 }, async () => {
  const c = await open();
  try {
    const events = [];
    const r = await c.subscribe('demo/ticks', { count: 3, intervalMs: 20 }, { onEvent: (e) => events.push(e) });
    assert.equal(r, undefined);
    assert.deepEqual(events, [{ tick: 1 }, { tick: 2 }, { tick: 3 }]);
  } finally { await c.close(); }
});

test('call.error carries code and details', { timeout: 5000 }, async () => {
  const c = await open();
  try {
    await assert.rejects(c.call('nope/nothing', {}), (e) => e.code === 'NOT_FOUND' && e.details.op === 'nope/nothing');
  } finally { await c.close(); }
});

test('bad credential is UNAUTHENTICATED', { timeout: 5000 }, async () => {
  await assert.rejects(open({ auth: 'alk_wrong' }), { code: 'UNAUTHENTICATED' });
});

test('fingerprint mismatch names both fingerprints', { timeout: 5000 }, async () => {
  const wrong = 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU';
  await assert.rejects(open({ fingerprint: wrong }), (e) => e.message.includes(wrong) && e.message.includes(FP));
});

test('without a fingerprint the self-signed certificate is refused', { timeout: 5000 }, async () => {
  await assert.rejects(open({ fingerprint: undefined }));
});

test('AbortSignal sends call.aborted and rejects with ABORTED', { timeout: 5000 }, async () => {
  const c = await open();
  try {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = c.call('demo/sleep', { ms: 5000 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(p, { code: 'ABORTED' });
    assert.ok(Date.now() - t0 < 1000);
    assert.ok(seen.some((e) => e.type === 'call.aborted' && e.id === p.id));
    // An already-aborted signal never sends the call.
    await assert.rejects(c.call('demo/sleep', { ms: 1 }, { signal: ac.signal }), { code: 'ABORTED' });
  } finally { await c.close(); }
});

test('abort(id) and deadlineMs', { timeout: 5000 }, async () => {
  const c = await open();
  try {
    const p = c.call('demo/sleep', { ms: 5000 });
    assert.equal(c.abort(p.id), true);
    await assert.rejects(p, { code: 'ABORTED' });
    assert.equal(c.abort(p.id), false);
    const d = c.call('demo/sleep', { ms: 5000 }, { deadlineMs: 100 });
    await assert.rejects(d, { code: 'DEADLINE_EXCEEDED' });
    assert.equal(seen.findLast((e) => e.id === d.id && e.type === 'call.requested').deadlineMs, 100);
  } finally { await c.close(); }
});

test('ping/pong both ways', { timeout: 5000 }, async () => {
  const c = await open();
  try {
    assert.equal(typeof (await c.ping()), 'number');
    const p = c.call('test/ping-me', {}); // never answered; the node pings us instead
    p.catch(() => {});
    while (!seen.some((e) => e.type === 'pong' && e.id === 'srv-ping')) await new Promise((r) => setTimeout(r, 10));
  } finally { await c.close(); }
});

test('node calls the client back (CALL-7)', { timeout: 5000 }, async () => {
  const c = await open();
  try {
    c.handle('client/double', async ({ x }, ctx) => { assert.equal(ctx.id, 'n1'); return x * 2; });
    await c.call('test/callback', { op: 'client/double' });
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seen.findLast((e) => e.id === 'n1' && e.type === 'call.responded'), { type: 'call.responded', id: 'n1', output: 4 });
  } finally { await c.close(); }
});

test('a bad frame from the node rejects every pending call', { timeout: 5000 }, async () => {
  const c = await open();
  const slow = c.call('demo/sleep', { ms: 5000 });
  await assert.rejects(c.call('test/garbage', {}), { code: 'BAD_FRAME' });
  await assert.rejects(slow, { code: 'BAD_FRAME' });
  assert.equal(c.closed, true);
  await assert.rejects(c.call('demo/echo', {}));
});

test('connection loss rejects pending calls', { timeout: 5000 }, async () => {
  const c = await open();
  const slow = c.call('demo/sleep', { ms: 5000 });
  await assert.rejects(c.call('test/hangup', {}), { code: 'ABORTED' });
  await assert.rejects(slow, { code: 'ABORTED' });
});

test('close() rejects pending calls', { timeout: 5000 }, async () => {
  const c = await open();
  const slow = c.call('demo/sleep', { ms: 5000 });
  await c.close();
  await assert.rejects(slow, { code: 'ABORTED' });
});

test('malformed call arguments are refused locally, keeping the connection', { timeout: 5000 }, async () => {
  const c = await open();
  try {
    await assert.rejects(c.call('Bad Op', {}), TypeError);
    await assert.rejects(c.call('demo/echo', {}, { deadlineMs: 1.5 }), TypeError);
    await assert.rejects(c.call('demo/echo', {}, { meta: { n: 1 } }), TypeError);
    assert.deepEqual(await c.call('demo/echo', { ok: 1 }, { meta: { trace: 'x' } }), { ok: 1 });
  } finally { await c.close(); }
});

test('callbacks honour the node\'s call.aborted and deadlineMs', { timeout: 5000 }, async () => {
  const c = await open();
  try {
    let sawAbort = false;
    c.handle('client/hang', (input, { signal }) => new Promise(() => signal.addEventListener('abort', () => { sawAbort = true; })));
    await c.call('test/callback', { op: 'client/hang', id: 'n2', abortAfter: 30 });
    await c.call('test/callback', { op: 'client/hang', id: 'n3', deadlineMs: 30 });
    await c.call('test/callback', { op: 'client/missing', id: 'n4' });
    const ended = (id) => seen.findLast((e) => e.id === id && e.type === 'call.error');
    while (!ended('n2') || !ended('n3') || !ended('n4')) await new Promise((r) => setTimeout(r, 10));
    assert.equal(ended('n2').error.code, 'ABORTED');
    assert.equal(ended('n3').error.code, 'DEADLINE_EXCEEDED');
    assert.equal(ended('n4').error.code, 'NOT_FOUND');
    assert.ok(sawAbort);
  } finally { await c.close(); }
});
