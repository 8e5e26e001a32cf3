#!/bin/sh
# Runs the alknet/call JavaScript client tests (unit, mock node, and end-to-end against the
# packaged node at target/quarkus-app/quarkus-run.jar, or $ALKNET_JAR; the e2e file skips itself
# when the jar or java is missing). Set ALKNET_E2E_REQUIRE=1 to fail instead of skipping when
# the node does not offer ALPN alknet/call. Run from anywhere; CI calls it from the repo root.
set -eu
cd "$(dirname "$0")/../.."
exec node --test clients/js/test/
