#!/bin/sh
# Runs the web tests (clients/web/test): the OpenAPI document a packaged node serves passes
# @apidevtools/swagger-parser, and headless Chromium (Debian's /usr/bin/chromium, driven by
# playwright-core) loads /v1/schema over h2. Each test file starts its own node from
# target/quarkus-app/quarkus-run.jar, or $ALKNET_JAR. Without npm, chromium, java or the jar the
# tests skip, unless ALKNET_E2E_REQUIRE is set (as in CI): then they fail.
# Run from anywhere; CI calls it from the repo root.
set -eu
cd "$(dirname "$0")"
for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ -n "${ALKNET_E2E_REQUIRE:-}" ]; then
      echo "clients/web: $tool is not installed (apt-get install nodejs npm)" >&2
      exit 1
    fi
    echo "clients/web: $tool is not installed; skipping the web tests" >&2
    exit 0
  fi
done
# Installs the pinned devDependencies; Playwright must never download a browser of its own.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
cd ../..
exec node --test clients/web/test/
