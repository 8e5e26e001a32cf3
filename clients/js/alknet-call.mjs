// alknet-call.mjs: a dependency-free Node.js client for alknet's `alknet/call` protocol
// (TLS 1.3 over TCP), written from docs/call-protocol.md alone. Protocol version 1.
import tls from 'node:tls';
import { createHash } from 'node:crypto';

export const PROTOCOL = 1;
export const ALPN = 'alknet/call';
export const DEFAULT_MAX_FRAME = 1048576;

/** An error carried by a `call.error` frame (or raised locally with a protocol code). */
export class CallError extends Error {
  constructor(code, message, details) {
    super(message ?? code);
    this.name = 'CallError';
    this.code = code;
    if (details !== undefined && details !== null) this.details = details;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Encodes one envelope as a length-prefixed frame (4-byte big-endian length + UTF-8 JSON). */
export function encodeFrame(envelope, maxFrame = DEFAULT_MAX_FRAME) {
  const body = Buffer.from(JSON.stringify(envelope), 'utf8');
  if (body.length > maxFrame) throw new CallError('FRAME_TOO_LARGE', `frame of ${body.length} bytes exceeds ${maxFrame}`);
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/**
 * Incremental frame decoder: push() any chunk of bytes, get back the complete envelopes in it.
 * Throws CallError (BAD_FRAME / FRAME_TOO_LARGE) on a protocol error; the decoder is then dead.
 */
export class FrameDecoder {
  constructor(maxFrame = DEFAULT_MAX_FRAME) {
    this.maxFrame = maxFrame;
    this.chunks = [];
    this.buffered = 0;
    this.failed = null;
  }

  push(chunk) {
    if (this.failed) throw this.failed;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out = [];
    try {
      for (;;) {
        if (this.buffered < 4) break;
        const head = this.#peek(4);
        const n = head.readUInt32BE(0);
        if (n === 0) throw new CallError('BAD_FRAME', 'zero-length frame');
        // Refused from the header alone, before the body is read.
        if (n > this.maxFrame) throw new CallError('FRAME_TOO_LARGE', `frame of ${n} bytes exceeds ${this.maxFrame}`);
        if (this.buffered < 4 + n) break;
        const frame = this.#take(4 + n);
        out.push(parseEnvelope(frame.subarray(4)));
      }
    } catch (err) {
      this.failed = err;
      throw err;
    }
    return out;
  }

  #peek(n) {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].subarray(0, n);
  }

  #take(n) {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.buffered -= n;
    return all.subarray(0, n);
  }
}

/** Parses one frame body: UTF-8 JSON object with a string `type`. */
export function parseEnvelope(body) {
  let text, value;
  try { text = utf8.decode(body); } catch { throw new CallError('BAD_FRAME', 'frame is not valid UTF-8'); }
  try { value = JSON.parse(text); } catch { throw new CallError('BAD_FRAME', 'frame is not valid JSON'); }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CallError('BAD_FRAME', 'frame is not a JSON object');
  if (typeof value.type !== 'string') throw new CallError('BAD_FRAME', 'envelope has no string "type"');
  return value;
}

/** `SHA256:` + unpadded standard base64 of the SHA-256 of SubjectPublicKeyInfo DER. */
export function spkiFingerprint(spkiDer) {
  return 'SHA256:' + createHash('sha256').update(spkiDer).digest('base64').replace(/=+$/, '');
}

function checkCall(op, deadlineMs, parent, meta) {
  if (typeof op !== 'string' || !/^[a-z0-9._-]+\/[a-z0-9._-]+$/.test(op)) return `op must be "namespace/name": ${op}`;
  if (deadlineMs != null && !(Number.isSafeInteger(deadlineMs) && deadlineMs > 0)) return 'deadlineMs must be a positive integer';
  if (parent != null && (typeof parent !== 'string' || parent.length < 1 || parent.length > 128)) return 'parent must be a call id string';
  if (meta != null && (typeof meta !== 'object' || Array.isArray(meta) || Object.keys(meta).length > 64
    || Object.values(meta).some((v) => typeof v !== 'string'))) return 'meta must be an object of at most 64 strings';
  return null;
}

const toError = (e) => new CallError(e?.code ?? 'INTERNAL', e?.message ?? 'call failed', e?.details);

/** Opens a session; resolves with a client once the node answered `welcome`. */
export function connect({ host = '127.0.0.1', port = 4433, auth, client = 'alknet-call-js/1.0', fingerprint,
  ca, rejectUnauthorized, servername, maxFrame = DEFAULT_MAX_FRAME, meta, abortGraceMs = 5000 } = {}) {
  return new Promise((resolveConnect, rejectConnect) => {
    const socket = tls.connect({
      host, port, ca, servername: servername ?? (/^[\d.:]+$/.test(host) ? undefined : host),
      ALPNProtocols: [ALPN], minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3',
      // A pinned fingerprint replaces CA verification (nodes usually hold a self-signed certificate).
      rejectUnauthorized: rejectUnauthorized ?? !fingerprint,
    });
    const decoder = new FrameDecoder(maxFrame);
    const pending = new Map(); // call id -> {resolve, reject, onEvent, cleanup}
    const pings = new Map();   // ping id -> resolve
    const handlers = new Map(); // op -> async (input, {signal, id, parent, meta}) => output
    const served = new Map();  // node's call id -> AbortController
    let nextId = 1, welcomed = false, closed = null;

    const send = (env) => { if (!closed) socket.write(encodeFrame(env, maxFrame)); };
    const settle = (id, fn) => { const p = pending.get(id); if (p) { pending.delete(id); p.cleanup(); fn(p); } };

    const shutdown = (err) => {
      if (closed) return;
      closed = err;
      for (const [id, p] of pending) { pending.delete(id); p.cleanup(); p.reject(err); }
      for (const [, r] of pings) r.reject(err);
      pings.clear();
      for (const [, ac] of served) ac.abort(err);
      if (!welcomed) rejectConnect(err);
      socket.destroy();
    };

    socket.on('secureConnect', () => {
      if (fingerprint) {
        // Not getPeerCertificate().pubkey: for EC keys (the node's P-256) it is the raw 65-byte point,
        // not the SPKI DER, and for Ed25519 it is absent. Export the SPKI DER instead.
        let actual = '(no certificate)';
        const cert = socket.getPeerX509Certificate?.();
        if (cert) actual = spkiFingerprint(cert.publicKey.export({ type: 'spki', format: 'der' }));
        if (actual !== fingerprint) {
          return shutdown(new CallError('UNTRUSTED', `node fingerprint mismatch: expected ${fingerprint}, got ${actual}`));
        }
      }
      if (socket.alpnProtocol !== ALPN) return shutdown(new CallError('UNAVAILABLE', `node did not select ALPN ${ALPN}`));
      const hello = { type: 'hello', client, protocol: PROTOCOL };
      if (auth) hello.auth = auth;
      if (meta) hello.meta = meta;
      send(hello);
    });
    socket.on('data', (chunk) => {
      let envelopes;
      try { envelopes = decoder.push(chunk); } catch (err) {
        try { send({ type: 'call.error', error: { code: err.code, message: err.message } }); } catch {}
        return shutdown(err);
      }
      for (const env of envelopes) { if (!closed) onEnvelope(env); }
    });
    socket.on('error', (err) => shutdown(Object.assign(new CallError('UNAVAILABLE', err.message), { cause: err })));
    socket.on('close', () => shutdown(new CallError('ABORTED', 'connection closed')));

    function onEnvelope(env) {
      const { type, id } = env;
      if (!welcomed) {
        if (type === 'welcome') {
          welcomed = true;
          return resolveConnect(api(env));
        }
        return shutdown(type === 'call.error' ? toError(env.error) : new CallError('BAD_FRAME', `expected welcome, got ${type}`));
      }
      switch (type) {
        case 'call.responded': return settle(id, (p) => p.resolve(env.output ?? null));
        case 'call.completed': return settle(id, (p) => p.resolve(undefined));
        case 'call.event': { const p = pending.get(id); if (p?.onEvent) try { p.onEvent(env.event) } catch {} return; }
        case 'call.error':
          if (id === undefined || id === null) return shutdown(toError(env.error)); // connection-level error
          return settle(id, (p) => p.reject(toError(env.error)));
        case 'ping': return send({ type: 'pong', id });
        case 'pong': { const r = pings.get(id); if (r) { pings.delete(id); r.resolve(); } return; }
        case 'call.requested': return serve(env);
        case 'call.aborted': served.get(id)?.abort(new CallError('ABORTED', env.reason ?? 'aborted by node')); return;
        default: return; // unknown types are ignored (forward compatibility)
      }
    }

    // Calls the node makes to this client (CALL-7): answered from handlers registered with handle().
    async function serve({ id, op, input, parent, meta, deadlineMs }) {
      const fn = handlers.get(op);
      if (!fn) return send({ type: 'call.error', id, error: { code: 'NOT_FOUND', message: `no such operation: ${op}` } });
      const ac = new AbortController();
      let done = false;
      const fail = (e) => {
        if (done) return;
        done = true; served.delete(id); clearTimeout(timer);
        send({ type: 'call.error', id, error: { code: e.code, message: e.message.split('\n')[0], ...(e.details != null && { details: e.details }) } });
      };
      // An abort (call.aborted, deadline, connection loss) ends the call at once, whatever the handler does.
      ac.signal.addEventListener('abort', () => fail(ac.signal.reason instanceof CallError ? ac.signal.reason : new CallError('ABORTED', 'aborted')));
      const timer = deadlineMs > 0 ? setTimeout(() => ac.abort(new CallError('DEADLINE_EXCEEDED', 'deadline exceeded')), deadlineMs) : null;
      served.set(id, ac);
      try {
        const output = await fn(input ?? {}, { id, parent, meta, signal: ac.signal });
        if (!done) { done = true; served.delete(id); clearTimeout(timer); send({ type: 'call.responded', id, output: output ?? null }); }
      } catch (err) {
        // Only CallError codes/messages travel; other failures stay local (no internal detail on the wire).
        fail(err instanceof CallError ? err : new CallError('INTERNAL', 'operation failed'));
      }
    }

    // Ask the node to stop a call; it answers call.error ABORTED. Reject locally if it stays silent.
    function abortCall(id, reason) {
      const p = pending.get(id);
      if (!p || closed || p.grace) return false;
      const env = { type: 'call.aborted', id };
      if (typeof reason === 'string' && reason) env.reason = reason;
      send(env);
      p.grace = setTimeout(() => settle(id, (q) => q.reject(new CallError('ABORTED', 'aborted (no answer from node)'))), abortGraceMs);
      p.grace.unref?.();
      return true;
    }

    function start(op, input, { deadlineMs, parent, meta, signal, onEvent } = {}) {
      const id = String(nextId++);
      const promise = new Promise((resolve, reject) => {
        if (closed) return reject(closed);
        if (signal?.aborted) return reject(new CallError('ABORTED', 'aborted before it was sent'));
        // A wrongly typed field is BAD_FRAME on the node, which closes the whole connection: check here.
        const bad = checkCall(op, deadlineMs, parent, meta);
        if (bad) return reject(new TypeError(bad));
        const env = { type: 'call.requested', id, op, input: input ?? {} };
        if (parent != null) env.parent = parent;
        if (deadlineMs != null) env.deadlineMs = deadlineMs;
        if (meta) env.meta = meta;
        let frame;
        try { frame = encodeFrame(env, maxFrame); } catch (err) { return reject(err); }
        const onAbort = () => abortCall(id, signal.reason?.message);
        const entry = { resolve, reject, onEvent, grace: null,
          cleanup: () => { signal?.removeEventListener('abort', onAbort); clearTimeout(entry.grace); } };
        pending.set(id, entry);
        signal?.addEventListener('abort', onAbort, { once: true });
        socket.write(frame);
      });
      promise.id = id;
      return promise;
    }

    function api(welcome) {
      return {
        identity: welcome.identity,
        node: welcome.node,
        protocol: welcome.protocol,
        socket,
        call: (op, input, opts) => start(op, input, opts),
        subscribe: (op, input, opts = {}) => start(op, input, opts),
        abort: (id, reason) => abortCall(String(id), reason),
        ping() {
          if (closed) return Promise.reject(closed);
          const id = `ping-${nextId++}`, t0 = process.hrtime.bigint();
          return new Promise((resolve, reject) => {
            pings.set(id, { resolve: () => resolve(Number(process.hrtime.bigint() - t0) / 1e6), reject });
            send({ type: 'ping', id });
          });
        },
        handle(op, fn) { handlers.set(op, fn); },
        get closed() { return closed !== null; },
        close() {
          return new Promise((resolve) => {
            if (closed) return resolve();
            socket.once('close', resolve);
            socket.end();
            setTimeout(() => shutdown(new CallError('ABORTED', 'connection closed')), 1000).unref();
          });
        },
      };
    }
  });
}
