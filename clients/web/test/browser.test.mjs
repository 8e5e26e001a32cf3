// A browser-style check: headless Chromium (Debian's, driven by playwright-core; Playwright never
// downloads a browser here) loads /v1/schema from a real node over TLS with its self-signed
// certificate, using an API key as bearer credential, and gets the operation list over HTTP/2.
// The browser is $CHROMIUM_PATH, or /usr/bin/chromium.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { gate, nodeUnavailable, startNode } from '../support/alknet-node.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

const playwright = await import('playwright-core').then((m) => m.default ?? m, () => null);
const skip = gate(
  playwright ? false : 'playwright-core is not installed (run clients/web/run-tests.sh, or npm ci in clients/web)',
  existsSync(CHROMIUM) ? false : `chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  nodeUnavailable(),
);

describe('headless Chromium against a real node', { skip, timeout: 180_000 }, () => {
  let node, browser;

  before(async () => {
    node = await startNode({ name: 'web-browser' });
    browser = await playwright.chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
  });

  after(async () => {
    if (browser) await browser.close();
    if (node) await node.stop();
  });

  const withPage = async (headers, fn) => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, extraHTTPHeaders: headers });
    try { return await fn(await context.newPage()); } finally { await context.close(); }
  };
  const bearer = () => ({ Authorization: `Bearer ${node.apiKey}` });

  test('loads /v1/schema over h2 and lists demo/echo', { timeout: 60_000 }, async () => {
    await withPage(bearer(), async (page) => {
      const response = await page.goto(`${node.base}/v1/schema`, { timeout: 30_000 });
      assert.ok(response, 'no response for the navigation');
      assert.equal(response.status(), 200, `GET /v1/schema: ${response.status()} ${await response.text()}`);
      assert.match(response.headers()['content-type'] ?? '', /^application\/json/);

      const protocol = await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
      assert.equal(protocol, 'h2');
      const tls = await response.securityDetails();
      assert.equal(tls?.protocol, 'TLS 1.3');

      // What the page shows: the JSON document, as text.
      const text = await page.evaluate(() => document.body.innerText);
      assert.ok(text.includes('demo/echo'), `page body does not mention demo/echo: ${text.slice(0, 500)}`);
      const shown = await page.evaluate(() => (document.querySelector('pre') ?? document.body).textContent);
      const names = JSON.parse(shown).operations.map((o) => o.name);
      assert.ok(names.includes('demo/echo'), `demo/echo missing from ${names}`);
    });
  });

  test('fetch() from the page calls GET /v1/demo/echo', { timeout: 60_000 }, async () => {
    await withPage(bearer(), async (page) => {
      await page.goto(`${node.base}/healthz`, { timeout: 30_000 });
      const out = await page.evaluate(async () => {
        const r = await fetch('/v1/demo/echo?text=hi');
        return { status: r.status, body: await r.json() };
      });
      assert.deepEqual(out, { status: 200, body: { text: 'hi' } });
    });
  });

  test('without a credential /v1/schema is 401', { timeout: 60_000 }, async () => {
    await withPage({}, async (page) => {
      const response = await page.goto(`${node.base}/v1/schema`, { timeout: 30_000 });
      assert.equal(response.status(), 401);
    });
  });
});
