#!/usr/bin/env bash
# HTTP benchmark: the same REST call (POST /v1/demo/echo, body {"text":"hello"}, API key as a Bearer
# token) through the endpoint's port (the endpoint terminates TLS 1.3 and hands the channel to
# Vert.x's HTTP codec) vs straight to Quarkus's own HTTPS listener, over h2 and http/1.1, with
# h2load, in one run. Requests/s, p50/p99 latency and node CPU per request, and the ratios.
#
#   bench/http.sh            # ~2.5 minutes; rewrites the HTTP section of docs/benchmarks.md
#   bench/http.sh --help     # this text
#
# One node process (`bin/alknet serve`, the packaged app) serves both: its endpoint on a free port,
# and Quarkus's HTTPS listener (normally off) turned on by system properties on another free port of
# 127.0.0.1, with the same PEM certificate and key (generated here with openssl, ECDSA P-256) and
# the same router. Load: h2load, one client thread, CONNS connections; h2 with STREAMS concurrent
# streams per connection, http/1.1 (`--h1`) with one request at a time per connection. A warm-up
# pass runs every case once, then ROUNDS measured rounds run every case again, interleaved (the
# order of the two listeners alternates between rounds); each run leaves its first 0.5 s out
# (h2load --warm-up-time). p50/p99 come from h2load's per-request log (--log-file: time from sending
# the request to the end of the response). The report also counts the connections h2load closed
# that the node left open (TCP CLOSE-WAIT), per listener.
#
# Environment: DURATION (seconds per measured case and round, default 4), WARMUP (seconds per case
# in the warm-up pass, default 6), ROUNDS (default 6), CONNS (default 16), STREAMS (default 10),
# NO_DOCS=1 (do not touch docs/benchmarks.md).
# Results go to bench/results/ (gitignored). Installs h2load (Debian package nghttp2-client) with
# apt-get when it is missing and this runs as root; builds the packaged node when it is missing or
# older than a source.
set -euo pipefail

case "${1:-}" in
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  "") ;;
  *)
    echo "usage: $0 [--help]" >&2
    exit 2
    ;;
esac

. "$(dirname "$0")/lib.sh"
DURATION=${DURATION:-4}
WARMUP=${WARMUP:-6}
ROUNDS=${ROUNDS:-6}
CONNS=${CONNS:-16}
STREAMS=${STREAMS:-10}

# ---- tools: h2load from Debian's nghttp2-client, installed when missing (as root)
if ! command -v h2load >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing nghttp2-client (h2load) with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client >/dev/null; }
fi
need h2load "apt-get install -y nghttp2-client"
need curl "apt-get install -y curl"
need openssl "apt-get install -y openssl"
need python3 "apt-get install -y python3"
need java "apt-get install -y openjdk-17-jdk-headless"

# ---- build the packaged node when it is missing or a main source is newer. Format checks and the
# JS client tests are skipped: they do not change the jar.
JAR="target/quarkus-app/quarkus-run.jar"
if [ ! -f "$JAR" ] || [ -n "$(find src/main pom.xml -newer "$JAR" -type f -print -quit)" ]; then
  echo "== building (./mvnw -B -o -q -DskipTests -DskipJsTests package)"
  ./mvnw -B -o -q -DskipTests -DskipJsTests package ||
    ./mvnw -B -q -DskipTests -DskipJsTests package
fi

RUN="$OUT/http-$STAMP" # kept: node log, h2load outputs, runs.tsv
WORK=$(mktemp -d)      # removed: data dir, certificate, per-request logs
mkdir -p "$RUN" "$WORK/data" "$WORK/tls" "$WORK/logs"
NODE_PID=""
cleanup() {
  if [ -n "$NODE_PID" ] && kill -0 "$NODE_PID" 2>/dev/null; then
    kill "$NODE_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$NODE_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port [udp]: a port of 127.0.0.1 free for TCP (and for UDP too with "udp").
free_port() {
  python3 - "$@" <<'EOF'
import socket, sys
for _ in range(100):
    t = socket.socket()
    t.bind(("127.0.0.1", 0))
    p = t.getsockname()[1]
    if "udp" in sys.argv[1:]:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", p))
        except OSError:
            t.close()
            continue
        u.close()
    t.close()
    print(p)
    break
EOF
}

# ---- one PEM pair for both listeners (the node's own default is the same kind: ECDSA P-256,
# self-signed, SANs localhost and 127.0.0.1)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=alknet bench" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$WORK/tls/node.key" -out "$WORK/tls/node.crt" >/dev/null 2>&1
CERT="$WORK/tls/node.crt"
PKEY="$WORK/tls/node.key"
KEY=$(bin/alknet apikey create --append --data-dir "$WORK/data" --scopes call bench 2>/dev/null)
printf '{"text":"hello"}' >"$WORK/body.json"

PORT=$(free_port udp)   # the endpoint: TLS/TCP (and QUIC) on this port
DIRECT=$(free_port)     # Quarkus's own HTTPS listener
while [ "$DIRECT" = "$PORT" ]; do DIRECT=$(free_port); done

# ---- the node: endpoint + Quarkus's HTTPS listener in one process; the management port (9464 by
# default) on a free port so that a node already running on this machine does not conflict.
OPTS="-Dquarkus.management.port=0"
# Default connection limits (64 per address): h2load opens 16 at a time. The report counts
# connections the node left half-open (CLOSE-WAIT); it must be 0 on both listeners.
OPTS+=" -Dalknet.tls.certificate=$CERT -Dalknet.tls.private-key=$PKEY"
OPTS+=" -Dquarkus.http.host-enabled=true -Dquarkus.http.host=127.0.0.1"
OPTS+=" -Dquarkus.http.insecure-requests=disabled -Dquarkus.http.port=0 -Dquarkus.http.ssl-port=$DIRECT"
OPTS+=" -Dquarkus.http.ssl.certificate.files=$CERT -Dquarkus.http.ssl.certificate.key-files=$PKEY"
echo "== node: endpoint on 127.0.0.1:$PORT, Quarkus HTTPS listener on 127.0.0.1:$DIRECT"
ALKNET_JAVA_OPTS="${ALKNET_JAVA_OPTS:-} $OPTS" \
  bin/alknet serve --data-dir "$WORK/data" --port "$PORT" --bind 127.0.0.1 >"$RUN/node.log" 2>&1 &
NODE_PID=$! # bin/alknet execs java: this is the node's JVM

URL_PORT="https://127.0.0.1:$PORT/v1/demo/echo"
URL_DIRECT="https://127.0.0.1:$DIRECT/v1/demo/echo"
# call URL CURL-OPTION: prints "STATUS HTTP-VERSION BODY"
call() {
  curl -sk --max-time 5 "$2" -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -d '{"text":"hello"}' -w ' %{http_code} %{http_version}' "$1" 2>/dev/null || true
}
ready=""
for _ in $(seq 120); do
  if ! kill -0 "$NODE_PID" 2>/dev/null; then
    echo "the node stopped; its log:" >&2
    cat "$RUN/node.log" >&2
    exit 1
  fi
  if [ "$(call "$URL_PORT" --http2)" = '{"text":"hello"} 200 2' ] &&
    [ "$(call "$URL_DIRECT" --http2)" = '{"text":"hello"} 200 2' ]; then
    ready=1
    break
  fi
  sleep 0.5
done
[ -n "$ready" ] || { echo "the node did not answer on both listeners in 60 s; see $RUN/node.log" >&2; exit 1; }

# ---- both listeners: 200 and the echoed body over h2 and http/1.1, same certificate, TLS 1.3
for url in "$URL_PORT" "$URL_DIRECT"; do
  for v in --http2 --http1.1; do
    got=$(call "$url" "$v")
    want='{"text":"hello"} 200 '$([ "$v" = --http2 ] && echo 2 || echo 1.1)
    echo "   curl $v $url -> $got"
    [ "$got" = "$want" ] || { echo "expected: $want" >&2; exit 1; }
  done
done
tls_facts() {
  openssl s_client -connect "127.0.0.1:$1" -alpn h2 </dev/null 2>/dev/null >"$WORK/s_client.txt" || true
  printf '%s; %s; certificate %s' \
    "$(grep -a -m1 -o 'TLSv1\.[0-9], Cipher is [A-Z0-9_]*' "$WORK/s_client.txt")" \
    "$(grep -a -m1 -o 'Server Temp Key: [^,]*' "$WORK/s_client.txt")" \
    "$(openssl x509 -noout -fingerprint -sha256 <"$WORK/s_client.txt" | cut -d= -f2 | cut -c1-23)"
}
TLS_PORT=$(tls_facts "$PORT")
TLS_DIRECT=$(tls_facts "$DIRECT")
echo "   TLS through the port: $TLS_PORT"
echo "   TLS Quarkus direct:   $TLS_DIRECT"
[ "$TLS_PORT" = "$TLS_DIRECT" ] || { echo "the two listeners differ in TLS" >&2; exit 1; }

bench_load start

# node_cpu: utime+stime of the node's JVM, in clock ticks
node_cpu() { awk '{ print $14 + $15 }' "/proc/$NODE_PID/stat"; }
# load PROTO TARGET SECONDS NAME: one h2load run; output in $RUN/NAME.txt, per-request log in
# $WORK/logs/NAME.tsv; appends a line to $RUN/runs.tsv (name, proto, target, node CPU ticks).
load() {
  local proto=$1 target=$2 secs=$3 name=$4 url args
  url=$([ "$target" = port ] && echo "$URL_PORT" || echo "$URL_DIRECT")
  args=(-t 1 -c "$CONNS" -D "$secs" --warm-up-time=500ms -d "$WORK/body.json"
    -H "authorization: Bearer $KEY" -H "content-type: application/json")
  if [ "$proto" = h2 ]; then args+=(-m "$STREAMS"); else args+=(--h1 -m 1); fi
  local c0 c1
  c0=$(node_cpu)
  h2load "${args[@]}" --log-file="$WORK/logs/$name.tsv" "$url" >"$RUN/$name.txt" 2>&1 ||
    { echo "h2load failed:" >&2; cat "$RUN/$name.txt" >&2; exit 1; }
  c1=$(node_cpu)
  printf '%s\t%s\t%s\t%s\n' "$name" "$proto" "$target" "$((c1 - c0))" >>"$RUN/runs.tsv"
  grep -o '[0-9.]* req/s' "$RUN/$name.txt" | head -1
}

echo "== warm-up: every case once, $WARMUP s"
for proto in h2 h1; do
  for target in port direct; do
    printf '   %-3s %-6s ' "$proto" "$target"
    load "$proto" "$target" "$WARMUP" "warmup-$proto-$target"
  done
done
: >"$RUN/runs.tsv"
echo "== $ROUNDS measured rounds, $DURATION s per case (h2load -t 1 -c $CONNS; h2 -m $STREAMS; http/1.1 --h1 -m 1)"
for round in $(seq "$ROUNDS"); do
  order="port direct"
  [ $((round % 2)) = 0 ] && order="direct port"
  for proto in h2 h1; do
    for target in $order; do
      printf '   round %s %-3s %-6s ' "$round" "$proto" "$target"
      load "$proto" "$target" "$DURATION" "r$round-$proto-$target"
    done
  done
done
bench_load end
# connections the clients closed but the node did not (CLOSE-WAIT), per listener
sleep 1
closewait() { ss -Htn state close-wait "( sport = :$1 )" | wc -l; }
OPENED=$(($(wc -l <"$RUN/runs.tsv") / 2 * CONNS + 2 * CONNS)) # measured + warm-up runs
LEFT="$(closewait "$PORT") $(closewait "$DIRECT") $OPENED"
echo "== connections in CLOSE-WAIT on the node: through the port $(closewait "$PORT"), Quarkus direct $(closewait "$DIRECT") (h2load opened about $OPENED per listener)"

# ---- report
bench_report "$OUT" "$RUN" "$WORK/logs" "$LOAD_START" "$LOAD_END" "$DURATION" "$WARMUP" "$ROUNDS" \
  "$CONNS" "$STREAMS" "$TLS_PORT" "$(getconf CLK_TCK)" "$LEFT" "${NO_DOCS:-}" <<'EOF'
import re
(out, run, logs, load_start, load_end, duration, warmup, rounds, conns, streams, tls, clk_tck,
 left, no_docs) = sys.argv[1:15]
duration, clk_tck = float(duration), int(clk_tck)

runs = [l.rstrip("\n").split("\t") for l in open(os.path.join(run, "runs.tsv")) if l.strip()]

def h2load_out(name):
    text = open(os.path.join(run, name + ".txt")).read()
    rps = float(re.search(r"finished in [0-9.]+\w*, ([0-9.]+) req/s", text).group(1))
    m = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", text)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    bad = int(m.group(4)) + int(m.group(5)) + int(m.group(6)) + sum(int(codes.group(i)) for i in (2, 3, 4))
    return rps, bad

def pct(sorted_vals, p):
    return sorted_vals[min(len(sorted_vals) - 1, int(len(sorted_vals) * p / 100))]

cases = {}
for name, proto, target, ticks in runs:
    rps, bad = h2load_out(name)
    times = [int(l.split("\t")[2]) for l in open(os.path.join(logs, name + ".tsv")) if l.strip()]
    c = cases.setdefault((proto, target), {"rps": [], "bad": 0, "times": [], "p99": [], "cpu": 0.0, "n": 0})
    c["rps"].append(rps)
    c["bad"] += bad
    c["times"] += times
    c["p99"].append(pct(sorted(times), 99))
    c["cpu"] += int(ticks) / clk_tck * 1e6
    c["n"] += len(times)
for c in cases.values():
    c["times"].sort()
    c["mean_rps"] = sum(c["rps"]) / len(c["rps"])
    c["p50"] = pct(c["times"], 50)
    c["p99_all"] = pct(c["times"], 99)
    c["cpu_per_req"] = c["cpu"] / c["n"]

def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2

PROTOS = (("h2", f"h2 ({conns} conn × {streams} streams)"), ("h1", f"http/1.1 ({conns} conn, 1 request each)"))
TARGETS = (("port", "through the endpoint port"), ("direct", "Quarkus HTTPS listener"))

def ms(us):
    return f"{us / 1000:.2f}"

rev, cpu_model, now = run_facts()
busy = float(load_start.split()[0]) > 1.5 or float(load_end.split()[0]) > 1.5
md = []
md.append(f"Run {now}, commit `{rev}`, {os.cpu_count()} CPUs ({cpu_model}) shared by h2load and the node "
          f"JVM, loopback. {rounds} measured rounds of {duration:g} s per case (interleaved: in each round "
          f"the two listeners run back to back, the order alternating between rounds), after a {warmup} s "
          f"warm-up pass per case. TLS on both listeners: {tls}. Load average (1/5/15 min): {load_start} "
          f"at start, {load_end} at end{' — other work was running on this machine' if busy else ''}.")
md.append("")
md.append("| Protocol | Path | Req/s, mean of rounds | p50 ms | p99 ms | Node CPU µs/req | Req/s per round | p99 ms per round |")
md.append("|---|---|---:|---:|---:|---:|---|---|")
for p, pname in PROTOS:
    for t, tname in TARGETS:
        c = cases[(p, t)]
        per = ", ".join(f"{v:,.0f}" for v in c["rps"])
        p99s = ", ".join(ms(v) for v in c["p99"])
        bad = f" ({c['bad']} failed or not 2xx)" if c["bad"] else ""
        md.append(f"| {pname} | {tname} | {c['mean_rps']:,.0f}{bad} | {ms(c['p50'])} | {ms(c['p99_all'])} | "
                  f"{c['cpu_per_req']:.0f} | {per} | {p99s} |")
md.append("")
md.append("| Protocol | Req/s port / direct: median of rounds (range) | of the means | "
          "p99 port / direct: median of rounds (range) | pooled | Node CPU/req port / direct | "
          "Goal: overhead ≤ 1.2× (medians of rounds) |")
md.append("|---|---:|---:|---:|---:|---:|---|")
for p, pname in PROTOS:
    a, b = cases[(p, "port")], cases[(p, "direct")]
    rr = [x / y for x, y in zip(a["rps"], b["rps"])]
    pr = [x / y for x, y in zip(a["p99"], b["p99"])]
    m_rps, m_p99 = median(rr), median(pr)
    met = 1 / m_rps <= 1.2 and m_p99 <= 1.2
    md.append(f"| {pname} | {m_rps:.2f} ({min(rr):.2f}–{max(rr):.2f}) | {a['mean_rps'] / b['mean_rps']:.2f} | "
              f"{m_p99:.2f} ({min(pr):.2f}–{max(pr):.2f}) | {a['p99_all'] / b['p99_all']:.2f} | "
              f"{a['cpu_per_req'] / b['cpu_per_req']:.2f} | "
              f"{'met' if met else 'not met'}: direct/port req/s {1 / m_rps:.2f}, port/direct p99 {m_p99:.2f} |")
md.append("")
md.append("Req/s: h2load's `req/s` of a run (requests completed in its measured window / the window). p99 "
          "per round, and p50/p99 pooled over all measured rounds: from h2load's `--log-file` (per "
          "request, the time from sending it to the end of its response), so they include queueing "
          "behind the other requests in flight. Ratios per round compare the two runs of a round, which "
          "ran back to back; their median is less moved by the load of other processes than the ratio "
          "of means or of pooled percentiles. Node CPU µs/req: utime+stime of the node's JVM during "
          "the measured runs / their requests. The goal is met when the median round has Quarkus-direct "
          "req/s at most 1.2× the through-port req/s and the through-port p99 at most 1.2× the direct "
          "p99.")
cw_port, cw_direct, opened = left.split()
md.append("")
md.append(f"Connections the clients had closed but the node had not, at the end (TCP CLOSE-WAIT; h2load "
          f"opened about {opened} per listener): {cw_port} on the endpoint's port, {cw_direct} on "
          f"Quarkus's listener.")
section = "\n".join(md) + "\n"

publish(section, out, "http", "HTTP through the endpoint port", no_docs)
EOF
echo "raw outputs: $RUN"
