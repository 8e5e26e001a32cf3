#!/usr/bin/env bash
# Endpoint benchmark (SPEC section 16): raw stream echo throughput over QUIC and TLS/TCP next to
# iperf3 over TCP loopback, handshakes/s, memory per idle QUIC connection.
#
#   bench/endpoint.sh            # ~2.5 minutes; rewrites the endpoint section of docs/benchmarks.md
#
# Environment: DURATION (seconds per measurement, default 6), WARMUP (default 2),
# IDLE (idle QUIC connections, default 1000), NO_DOCS=1 (do not touch docs/benchmarks.md).
# Results go to bench/results/ (gitignored). Installs nothing.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/bench/results"
DURATION=${DURATION:-6}
WARMUP=${WARMUP:-2}
IDLE=${IDLE:-1000}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "endpoint.sh: $1 not found. Install it with: $2" >&2
    exit 1
  fi
}
need iperf3 "apt-get install -y iperf3"
need python3 "apt-get install -y python3"
need java "apt-get install -y openjdk-17-jdk-headless"

# ---- build (only if the bench class is missing or a source is newer)
CLASS="target/test-classes/net/alknet/bench/EndpointBench.class"
if [ ! -f "$CLASS" ] || [ -n "$(find src pom.xml -newer "$CLASS" -type f -print -quit)" ]; then
  echo "== building (./mvnw -B -o -q -DskipTests package)"
  ./mvnw -B -o -q -DskipTests package
fi

# ---- class path: main + test classes + dependencies
CPFILE="$OUT/classpath.txt"
if [ ! -s "$CPFILE" ] || [ pom.xml -nt "$CPFILE" ]; then
  DEP=org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath
  ./mvnw -B -o -q "$DEP" -Dmdep.outputFile="$CPFILE" >/dev/null 2>&1 ||
    ./mvnw -B -q "$DEP" -Dmdep.outputFile="$CPFILE" >/dev/null 2>&1 ||
    { ls target/quarkus-app/lib/boot/*.jar target/quarkus-app/lib/main/*.jar | paste -sd: >"$CPFILE"; }
fi
CP="$ROOT/target/classes:$ROOT/target/test-classes:$(cat "$CPFILE")"

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== load average at start: $LOAD_START ($(nproc) CPUs)"

# ---- iperf3 anchor over TCP loopback (one client process, one server process)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
iperf3 -s -B 127.0.0.1 -p "$PORT" >"$OUT/iperf3-server.log" 2>&1 &
IPERF_PID=$!
trap 'kill "$IPERF_PID" 2>/dev/null || true' EXIT
sleep 0.5
for P in 1 8; do
  echo "== iperf3 -c 127.0.0.1 -t $DURATION -O $WARMUP -P $P"
  iperf3 -c 127.0.0.1 -p "$PORT" -t "$DURATION" -O "$WARMUP" -P "$P" -J >"$OUT/iperf3-P$P.json"
done
kill "$IPERF_PID" 2>/dev/null || true
wait "$IPERF_PID" 2>/dev/null || true
trap - EXIT

# ---- the endpoint bench (client and server in one JVM, one event-loop thread each)
RESULTS="$OUT/endpoint-$STAMP.txt"
echo "== java EndpointBench duration=$DURATION warmup=$WARMUP idle=$IDLE"
java --enable-native-access=ALL-UNNAMED -XX:+UseG1GC -Xmx1g -cp "$CP" \
  net.alknet.bench.EndpointBench "$RESULTS" duration="$DURATION" warmup="$WARMUP" idle="$IDLE" |
  grep -v '^RESULT '
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== load average at end: $LOAD_END"

# ---- report
python3 - "$OUT" "$RESULTS" "$LOAD_START" "$LOAD_END" "$DURATION" "${NO_DOCS:-}" <<'EOF'
import json, os, re, subprocess, sys, datetime
out, results, load_start, load_end, duration, no_docs = sys.argv[1:7]

def iperf(p):
    with open(os.path.join(out, f"iperf3-P{p}.json")) as f:
        j = json.load(f)
    return j["end"]["sum_received"]["bits_per_second"] / 8 / 1e6

r = {}
for line in open(results):
    if line.startswith("RESULT "):
        _, k, v = line.rstrip("\n").split(" ", 2)
        r[k] = v.strip('"')

ip = {1: iperf(1), 8: iperf(8)}
def f(x): return f"{x:,.1f}"
def num(k): return float(r[k].rstrip("+"))

rows = []
for t, name in (("quic", "QUIC"), ("tcp", "TLS/TCP")):
    for n in (1, 8):
        k = f"echo_{t}_{n}_MBps"
        shape = (f"{n} stream" + ("s on 1 connection" if n > 1 else "")) if t == "quic" \
            else (f"{n} connection" + ("s" if n > 1 else ""))
        rows.append((f"alknet {name} echo, {shape}", num(k), num(k) / ip[n], r.get(f"echo_{t}_{n}_cpu", "")))
for n in (1, 8):
    rows.append((f"iperf3 TCP, -P {n}", ip[n], 1.0, "plaintext, one direction"))

rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu_model = ""
try:
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu_model = l.split(":", 1)[1].strip(); break
except OSError:
    pass
hq1, ht1 = num("handshakes_quic_1_per_s"), num("handshakes_tcp_1_per_s")
hq2, ht2 = num("handshakes_quic_2_per_s"), num("handshakes_tcp_2_per_s")
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

md = []
md.append(f"Run {now}, commit `{rev}`, {r.get('cpus')} CPUs ({cpu_model}), Java {r.get('java_version')}, "
          f"{duration} s per measurement. Load average (1/5/15 min): {load_start} at start, "
          f"{load_end} at end{' — other work was running on this machine' if float(load_start.split()[0]) > 1.5 else ''}.")
md.append("")
md.append("### Stream throughput (echo) vs iperf3")
md.append("")
md.append("| Case | MB/s | Ratio vs iperf3 (same streams) | CPU by thread group (% of one core) |")
md.append("|---|---:|---:|---|")
for name, v, ratio, cpu in rows:
    md.append(f"| {name} | {f(v)} | {ratio:.3f} | {cpu} |")
md.append("")
md.append("MB = 10^6 bytes. alknet: bytes echoed back per second through `alknet/echo` (every byte "
          "crosses loopback twice and is encrypted and decrypted twice); iperf3: bytes received per "
          "second, one direction, no encryption. Writers keep at most 4 MiB per stream not yet echoed "
          "back. `srv-loop`/`cli-loop` are the server's and the client's single event-loop thread, "
          "`echo` the node's per-stream copy threads, `bench-*` the client's blocking writer/reader "
          "threads, `bench-connect` the threads calling `EndpointClient.connect`; `jit`, `gc` and "
          "`other` are JVM threads. \"Waiting for a CPU\" is the time those threads were runnable but "
          "not running (schedstat): high values mean the machine was busy with other work.")
md.append("")
md.append("### Connection setup")
md.append("")
md.append("| Transport | Handshakes/s, 1 loop | Handshakes/s, 2 concurrent loops | 1 loop: time per loop; CPU by thread group |")
md.append("|---|---:|---:|---|")
md.append(f"| QUIC | {f(hq1)} | {f(hq2)} | {r.get('handshakes_quic_1_split','')}; {r.get('handshakes_quic_1_cpu','')} |")
md.append(f"| TLS 1.3/TCP | {f(ht1)} | {f(ht2)} | {r.get('handshakes_tcp_1_split','')}; {r.get('handshakes_tcp_1_cpu','')} |")
md.append(f"| Ratio QUIC / TLS-TCP | {hq1/ht1:.2f} | {hq2/ht2:.2f} | |")
md.append("")
md.append("A loop connects (full handshake, ALPN `alknet/echo`, pinned server certificate, no client "
          "certificate), closes, and waits until the client sees the connection closed. Client and "
          "server costs are both included (same JVM).")
md.append("")
md.append(f"### Memory per idle QUIC connection ({r['idle_quic_connections']} connections)")
md.append("")
md.append("| Side | Heap after GC, KiB/conn | RSS, KiB/conn | Threads added |")
md.append("|---|---:|---:|---:|")
md.append(f"| Node (server, own JVM) | {r['idle_quic_server_heap_KiB_per_conn']} | "
          f"{r['idle_quic_server_rss_KiB_per_conn']} | {r['idle_quic_server_threads_added']} |")
md.append(f"| Client (bench JVM) | {r['idle_quic_client_heap_KiB_per_conn']} | "
          f"{r['idle_quic_client_rss_KiB_per_conn']} | {r['idle_quic_client_threads_added']} |")
md.append("")
md.append(f"The node runs in a child JVM so both sides are measured apart: heap used after 4x "
          f"`System.gc()` (MemoryMXBean) and VmRSS, before and after opening the connections "
          f"(sequentially, {r['idle_quic_open_per_s']}/s; {r['idle_quic_open_server']} open on the "
          f"node at the end), divided by the count. RSS includes thread stacks and native "
          f"(quiche/BoringSSL) memory; it is noisy (heap regions, malloc arenas).")
section = "\n".join(md) + "\n"

with open(os.path.join(out, "endpoint-latest.md"), "w") as fh:
    fh.write(section)
print()
print(section)

if no_docs:
    sys.exit(0)
doc = "docs/benchmarks.md"
start, end = "<!-- endpoint-bench:start -->", "<!-- endpoint-bench:end -->"
if not os.path.exists(doc):
    with open(doc, "w") as fh:
        fh.write("# Benchmarks\n\n## Endpoint\n\n" + start + "\n" + end + "\n")
text = open(doc).read()
if start not in text or end not in text:
    text += "\n## Endpoint\n\n" + start + "\n" + end + "\n"
a, b = text.index(start) + len(start), text.index(end)
text = text[:a] + "\n" + section + text[b:]
with open(doc, "w") as fh:
    fh.write(text)
print(f"updated {doc}")
EOF
