// The OpenAPI document a real node serves at /openapi passes a standard validator
// (@apidevtools/swagger-parser, which validates OpenAPI 3.1 against the official schema and
// resolves every $ref).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gate, nodeUnavailable, startNode, h2get } from '../support/alknet-node.mjs';

const SwaggerParser = await import('@apidevtools/swagger-parser').then((m) => m.default, () => null);
const skip = gate(
  SwaggerParser ? false : '@apidevtools/swagger-parser is not installed (run clients/web/run-tests.sh, or npm ci in clients/web)',
  nodeUnavailable(),
);

describe('GET /openapi on a real node', { skip, timeout: 180_000 }, () => {
  let node, doc;

  before(async () => {
    node = await startNode({ name: 'web-openapi' });
    const res = await h2get(node.base, '/openapi', { authorization: `Bearer ${node.apiKey}` });
    assert.equal(res.status, 200, `GET /openapi: ${res.status} ${res.body.slice(0, 500)}`);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    doc = JSON.parse(res.body);
  });

  after(async () => { if (node) await node.stop(); });

  test('is OpenAPI 3.1 and lists the demo operations', () => {
    assert.match(doc.openapi, /^3\.1\./);
    assert.ok(doc.paths['/v1/demo/echo'], `no /v1/demo/echo in ${Object.keys(doc.paths)}`);
    assert.ok(doc.paths['/v1/demo/echo'].post, '/v1/demo/echo has no POST');
  });

  test('passes swagger-parser validation', async () => {
    let api;
    try {
      api = await SwaggerParser.validate(structuredClone(doc)); // validate() dereferences in place
    } catch (e) {
      const details = e.details ? `\n${JSON.stringify(e.details, null, 2).slice(0, 8000)}` : '';
      assert.fail(`the served OpenAPI document is invalid: ${e.message}${details}`);
    }
    assert.match(api.openapi, /^3\.1\./);
  });

  test('needs a bearer credential by default', async () => {
    const res = await h2get(node.base, '/openapi');
    assert.equal(res.status, 401, `GET /openapi without credential: ${res.status} ${res.body.slice(0, 300)}`);
  });
});
