#!/usr/bin/env bash
# Call protocol benchmark (SPEC section 16): unary round trips/s and p50/p99 latency of demo/echo
# over QUIC and TLS 1.3/TCP against the packaged node, side by side with gRPC-java unary calls
# (Netty, TLS 1.3, same JSON payload; grpc-java's default executor and directExecutor()) in the
# same run.
#
#   bench/call.sh            # ~2.5 minutes; rewrites the call section of docs/benchmarks.md
#
# Environment: DURATION (seconds per measured case and round, default 6), WARMUP (seconds per case
# in the warm-up pass, default 5), ROUNDS (measured rounds, default 2), CALLERS (default 1,64),
# CHILDJVM (extra JVM options for the node and the gRPC server, e.g. a JFR recording; {who} is
# replaced by node or grpc), NO_DOCS=1 (do not touch docs/benchmarks.md).
# Results go to bench/results/ (gitignored). Installs nothing.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
DURATION=${DURATION:-6}
WARMUP=${WARMUP:-5}
ROUNDS=${ROUNDS:-2}
CALLERS=${CALLERS:-1,64}

need python3 "apt-get install -y python3"
need java "apt-get install -y openjdk-17-jdk-headless"

# ---- build (only if the bench class or the packaged node is missing, or a source is newer)
JAR="target/quarkus-app/quarkus-run.jar"
bench_build target/test-classes/net/alknet/bench/CallBench.class "$JAR"

# ---- class path of the bench JVM: main + test classes + dependencies (gRPC is test scope)
bench_classpath --needs grpc-netty

bench_load start

# ---- the bench: node (packaged app) and gRPC server in child JVMs, both clients in this JVM
RESULTS="$OUT/call-$STAMP.txt"
echo "== java CallBench duration=$DURATION warmup=$WARMUP rounds=$ROUNDS callers=$CALLERS"
bench_java CallBench "$RESULTS" duration="$DURATION" warmup="$WARMUP" rounds="$ROUNDS" \
  callers="$CALLERS" jar="$ROOT/$JAR" childjvm="${CHILDJVM:-}"
bench_load end

# ---- report
bench_report "$OUT" "$RESULTS" "$LOAD_START" "$LOAD_END" "$DURATION" "$WARMUP" "$ROUNDS" "${NO_DOCS:-}" <<'EOF'
out, results, load_start, load_end, duration, warmup, rounds, no_docs = sys.argv[1:9]

r = read_results(results)

callers = sorted({int(k.split("_")[1]) for k in r if k.endswith("_calls_per_s") and "_rounds_" not in k})
names = {"quic": "alknet QUIC", "tcp": "alknet TLS/TCP", "grpc": "gRPC-java, default executor",
         "grpcd": "gRPC-java, directExecutor()"}
SYSTEMS = ("quic", "tcp", "grpc", "grpcd")

def num(k):
    return float(r[k])

rev, cpu_model, now = run_facts()

md = []
busy = float(load_start.split()[0]) > 1.5 or float(load_end.split()[0]) > 1.5
md.append(f"Run {now}, commit `{rev}`, {r.get('cpus')} CPUs ({cpu_model}) shared by the client JVM, "
          f"the node JVM and the gRPC server JVM, Java {r.get('java_version')}. {rounds} measured rounds "
          f"of {duration} s per case (interleaved), after a {warmup} s warm-up pass per case. Load average "
          f"(1/5/15 min): {load_start} at start, {load_end} at end"
          f"{' — other work was running on this machine' if busy else ''}.")
md.append("")
md.append("| Case | Callers | Calls/s | Ratio vs gRPC default executor | Ratio vs gRPC directExecutor() | p50 µs | p99 µs | CPU µs/call: server + client | Calls/s per round |")
md.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
for c in callers:
    g = num(f"grpc_{c}_calls_per_s") if f"grpc_{c}_calls_per_s" in r else None
    gd = num(f"grpcd_{c}_calls_per_s") if f"grpcd_{c}_calls_per_s" in r else None
    for s in SYSTEMS:
        k = f"{s}_{c}"
        if f"{k}_calls_per_s" not in r:
            continue
        v = num(f"{k}_calls_per_s")
        ratio = (f"{v / g:.2f}" if g else "n/a") + " | " + (f"{v / gd:.2f}" if gd else "n/a")
        errs = int(r.get(f"{k}_errors", "0"))
        rounds_txt = r.get(f"{k}_rounds_calls_per_s", "").replace(",", ", ")
        if errs:
            rounds_txt += f" ({errs} errors)"
        md.append(f"| {names[s]} | {c} | {v:,.0f} | {ratio} | {r[k + '_p50_us']} | {r[k + '_p99_us']} | "
                  f"{r[k + '_server_cpu_us_per_call']} + {r[k + '_client_cpu_us_per_call']} | {rounds_txt} |")
md.append("")
md.append("CPU by thread group in the last round (% of one core; \"waiting\" = runnable but not on a CPU):")
md.append("")
md.append("| Case | Callers | Server JVM | Client JVM |")
md.append("|---|---:|---|---|")
for c in callers:
    for s in SYSTEMS:
        k = f"{s}_{c}"
        if f"{k}_server_threads" in r:
            md.append(f"| {names[s]} | {c} | {r[k + '_server_threads']} | {r[k + '_client_threads']} |")
md.append("")
md.append(f"A case keeps N calls outstanding on one connection, closed loop (each completion issues the "
          f"next call; 1 caller = strictly sequential). Calls/s = completions in the measured windows / "
          f"their length; p50/p99 over every call completed in them (send to completion of the future, "
          f"in the client). Payload: `{{\"text\": <100 ASCII characters>}}` ({r.get('payload_bytes')} bytes "
          f"of JSON) both ways. CPU µs/call = (utime+stime of the process over the window) / calls.")
section = "\n".join(md) + "\n"

publish(section, out, "call", "Call protocol", no_docs)
EOF
