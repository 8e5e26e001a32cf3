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

. "$(dirname "$0")/lib.sh"
DURATION=${DURATION:-6}
WARMUP=${WARMUP:-2}
IDLE=${IDLE:-1000}

need iperf3 "apt-get install -y iperf3"
need python3 "apt-get install -y python3"
need java "apt-get install -y openjdk-17-jdk-headless"

# ---- build (only if the bench class is missing or a source is newer)
bench_build target/test-classes/net/alknet/bench/EndpointBench.class

# ---- class path: main + test classes + dependencies
bench_classpath --or-packaged

bench_load start

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
bench_java EndpointBench "$RESULTS" duration="$DURATION" warmup="$WARMUP" idle="$IDLE"
bench_load end

# ---- report
bench_report "$OUT" "$RESULTS" "$LOAD_START" "$LOAD_END" "$DURATION" "${NO_DOCS:-}" <<'EOF'
import json
out, results, load_start, load_end, duration, no_docs = sys.argv[1:7]

def iperf(p):
    with open(os.path.join(out, f"iperf3-P{p}.json")) as f:
        j = json.load(f)
    return j["end"]["sum_received"]["bits_per_second"] / 8 / 1e6

r = read_results(results)

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

rev, cpu_model, now = run_facts()
hq1, ht1 = num("handshakes_quic_1_per_s"), num("handshakes_tcp_1_per_s")
hq2, ht2 = num("handshakes_quic_2_per_s"), num("handshakes_tcp_2_per_s")

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

publish(section, out, "endpoint", "Endpoint", no_docs)
EOF
