// Starts a packaged alknet node for one test file: a fresh temp data dir, an API key with scope
// call, a free port on 127.0.0.1, and the node stopped (and the dir removed) afterwards.
// The jar is $ALKNET_JAR, or <repo>/target/quarkus-app/quarkus-run.jar.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import http2 from 'node:http2';
import net from 'node:net';
import { test } from 'node:test';

const here = dirname(fileURLToPath(import.meta.url));
export const JAR = resolve(process.env.ALKNET_JAR ?? join(here, '../../../target/quarkus-app/quarkus-run.jar'));
const JVM = ['--enable-native-access=ALL-UNNAMED', '-Dquarkus.management.port=0'];
const STARTUP_MS = 90_000;

/** With ALKNET_E2E_REQUIRE set (CI), a missing prerequisite fails the tests instead of skipping them. */
export const REQUIRE = !!process.env.ALKNET_E2E_REQUIRE;

/** Why the node cannot be started here, or false. */
export function nodeUnavailable() {
  if (!existsSync(JAR)) return `alknet jar not found at ${JAR} (build it with mvn package, or set ALKNET_JAR)`;
  const java = spawnSync('java', ['-version'], { stdio: 'ignore', timeout: 30_000 });
  if (java.error || java.status !== 0) return 'java is not installed or not on PATH';
  return false;
}

/**
 * The `skip` option for describe(): the first reason given (or false). Under ALKNET_E2E_REQUIRE a
 * reason is a failure instead: a test named "prerequisites" fails with it (the suite is skipped).
 */
export function gate(...reasons) {
  const reason = reasons.find(Boolean) || false;
  if (reason && REQUIRE) {
    test('prerequisites', () => { throw new Error(`${reason} (ALKNET_E2E_REQUIRE is set, so this fails instead of skipping)`); });
  }
  return reason;
}

const freePort = () => new Promise((ok, fail) => {
  const s = net.createServer().once('error', fail);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
});

/** Starts a node; resolves to {port, apiKey, base, stop()} once it listens. */
export async function startNode({ name = 'web-test', javaOpts = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'alknet-web-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const key = spawnSync('java', [...JVM, '-jar', JAR, 'apikey', 'create', name, '--scopes', 'call', '--append', '--data-dir', dir],
    { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  if (key.status !== 0) { cleanup(); throw new Error(`apikey create failed (${key.status ?? key.error}): ${key.stderr}`); }
  const apiKey = key.stdout.trim().split('\n').pop().trim();
  if (!/^alk_/.test(apiKey)) { cleanup(); throw new Error(`unexpected apikey output: ${key.stdout}`); }

  const port = await freePort();
  const proc = spawn('java', [...JVM, ...javaOpts, '-jar', JAR, 'serve', '--data-dir', dir, '--port', String(port), '--bind', '127.0.0.1'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let exited = false, log = '';
  proc.once('exit', () => { exited = true; });
  const killOnExit = () => { if (!exited) proc.kill('SIGKILL'); };
  process.once('exit', killOnExit); // never leave the node running

  const stop = async () => {
    if (!exited) {
      const gone = new Promise((ok) => proc.once('exit', ok));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(t);
    }
    process.off('exit', killOnExit);
    cleanup();
  };

  try {
    await new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`node did not start in ${STARTUP_MS} ms:\n${log.slice(-3000)}`)), STARTUP_MS);
      const onData = (chunk) => {
        log += chunk;
        if (log.includes('alknet endpoint listening')) { clearTimeout(timer); ok(); }
      };
      proc.stdout.setEncoding('utf8').on('data', onData);
      proc.stderr.setEncoding('utf8').on('data', onData);
      proc.once('exit', (code, sig) => {
        clearTimeout(timer);
        fail(new Error(`node exited (${code ?? sig}) before listening:\n${log.slice(-3000)}`));
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const alpns = /alknet endpoint listening.*ALPNs \[([^\]]*)\]/.exec(log);
  return { port, apiKey, base: `https://127.0.0.1:${port}`, alpns: alpns ? alpns[1].split(/,\s*/) : null, log: () => log, stop };
}

/** GET over HTTP/2 (the node's certificate is self-signed); resolves to {status, headers, body}. */
export function h2get(base, path, headers = {}) {
  return new Promise((ok, fail) => {
    const client = http2.connect(base, { rejectUnauthorized: false });
    client.once('error', fail);
    const req = client.request({ ':method': 'GET', ':path': path, ...headers });
    let status, resHeaders, body = '';
    req.setEncoding('utf8');
    req.once('response', (h) => { status = h[':status']; resHeaders = h; });
    req.on('data', (c) => { body += c; });
    req.once('end', () => { client.close(); ok({ status, headers: resHeaders, body }); });
    req.once('error', (e) => { client.close(); fail(e); });
    req.setTimeout(30_000, () => { req.close(); client.close(); fail(new Error(`GET ${path} timed out`)); });
  });
}
