#!/usr/bin/env bash
# git benchmark: `git clone` and `git push` of a generated repository (bench/gen-git-repo.sh:
# 3000 commits, ~2300 files, ~50 MB packed) through alknet/git over QUIC and TLS/TCP (stock git
# with bin/git-remote-alknet on its PATH) vs stock `git daemon` (git://) on loopback, in one run.
#
#   bench/git.sh            # ~12 minutes; rewrites the git section of docs/benchmarks.md
#   bench/git.sh --help     # this text
#
# A warm-up round (one untimed clone, ls-remote and push per transport) comes first, so the node's
# JIT is warm as on a long-running server. Every case then runs ROUNDS times, interleaved (daemon,
# QUIC, TCP, daemon, ...); the report gives the median wall time per case and, as the ratio to git
# daemon, the median of the per-round ratios (each alknet operation against the daemon's operation
# of the same round, seconds apart) with their range. Clones are `git clone --bare -q` into a
# fresh directory; pushes go to a new repository each time (push-to-create for alknet, an empty
# bare repository for the daemon). Where the time goes: `git ls-remote` of the same repository
# (the fixed cost: the helper's JVM start, the QUIC/TLS handshake, the ref advertisement) and the
# node's CPU seconds per clone and push (JGit's pack generation or indexing plus the transport),
# from /proc. After every push the node repacks the repository in the background (maintenance,
# docs/git.md): the script waits for that untimed before the next operation, so clones read a
# repository with bitmap indexes as on a server at rest, and reports how long it took. The QUIC
# and TLS/TCP cases run twice: the helper connecting by itself (ALKNET_AGENT=0, as when no agent
# runs), and through an `alknet agent` the script starts (docs/cli.md, "alknet agent").
#
# Environment: ROUNDS (default 5), COMMITS (default 3000), NO_DOCS=1 (do not touch
# docs/benchmarks.md). Results go to bench/results/ (gitignored).
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
ROUNDS=${ROUNDS:-5}
COMMITS=${COMMITS:-3000}
need git "apt-get install -y git"
need ssh-keygen "apt-get install -y openssh-client"
need python3 "apt-get install -y python3"
need java "apt-get install -y openjdk-17-jdk-headless"
bench_build target/quarkus-app/quarkus-run.jar

RUN="$OUT/git-$STAMP"
WORK=$(mktemp -d)
mkdir -p "$RUN" "$WORK/node" "$WORK/client" "$WORK/daemon" "$WORK/home"
NODE_PID=""
DAEMON_PID=""
AGENT_PID=""
cleanup() {
  for p in $AGENT_PID $NODE_PID $DAEMON_PID; do
    kill "$p" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 - "$@" <<'EOF'
import socket, sys
for _ in range(100):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p))
    except OSError:
        t.close(); continue
    u.close(); t.close(); print(p); sys.exit(0)
sys.exit(1)
EOF
}

export HOME="$WORK/home" GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
export ALKNET_DATA_DIR="$WORK/client" PATH="$ROOT/bin:$PATH"
bench_load start

echo "== generating the repository ($COMMITS commits)"
bash bench/gen-git-repo.sh "$WORK/src.git" "$COMMITS" 2>&1 | tee "$RUN/repo.txt"

ssh-keygen -q -t ed25519 -N "" -C bench -f "$WORK/client/id_ed25519"
echo "scopes=\"git\" $(cat "$WORK/client/id_ed25519.pub")" >"$WORK/node/authorized_keys"
PORT=$(free_port)
DPORT=$(free_port)
while [ "$DPORT" = "$PORT" ]; do DPORT=$(free_port); done
ALKNET_JAVA_OPTS="${ALKNET_JAVA_OPTS:-} -Dquarkus.management.port=0" \
  bin/alknet serve --data-dir "$WORK/node" --port "$PORT" --bind 127.0.0.1 >"$RUN/node.log" 2>&1 &
NODE_PID=$!
git daemon --reuseaddr --listen=127.0.0.1 --port="$DPORT" --base-path="$WORK/daemon" \
  --export-all --enable=receive-pack "$WORK/daemon" >"$RUN/daemon.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 150); do
  grep -q "alknet endpoint listening" "$RUN/node.log" 2>/dev/null && break
  kill -0 "$NODE_PID" || { cat "$RUN/node.log" >&2; exit 1; }
  sleep 0.2
done
bin/alknet agent --idle 0 >"$RUN/agent.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 150); do
  [ -S "$WORK/client/agent.sock" ] && break
  kill -0 "$AGENT_PID" || { cat "$RUN/agent.log" >&2; exit 1; }
  sleep 0.2
done

url() { # url CASE REPO
  case "$1" in
    daemon) echo "git://127.0.0.1:$DPORT/$2" ;;
    quic | quic-agent) echo "alknet://127.0.0.1:$PORT/$2" ;;
    tcp | tcp-agent) echo "alknet+tcp://127.0.0.1:$PORT/$2" ;;
  esac
}
# via CASE: whether git's helper may use the agent in this case.
via() {
  case "$1" in
    *-agent) unset ALKNET_AGENT ;;
    *) export ALKNET_AGENT=0 ;;
  esac
}
CASES="daemon quic tcp quic-agent tcp-agent"
now() { date +%s.%N; }
diff() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
node_cpu() { awk '{print ($14 + $15) / 100}' "/proc/$NODE_PID/stat"; }
RESULTS="$RUN/results.tsv"
: >"$RESULTS"

# wait_maintenance REPO: waits (untimed, up to 300 s) for the node's background maintenance after a
# push to REPO, and records how long the run took. Off with -Dalknet.git.maintenance.enabled=false.
wait_maintenance() {
  case "${ALKNET_JAVA_OPTS:-}" in *maintenance.enabled=false*) return 0 ;; esac
  local line=""
  for _ in $(seq 1500); do
    line=$(grep -E "git maintenance of '$1' (done|failed|cancelled)" "$RUN/node.log" | tail -1 || true)
    [ -n "$line" ] && break
    sleep 0.2
  done
  if [ -z "$line" ]; then
    echo "   no maintenance run for $1 within 300 s"
    return 0
  fi
  took=$(sed -n 's/.* done in \([0-9.]*\) s.*/\1/p' <<<"$line")
  [ -n "$took" ] && echo -e "maintenance\t$1\t0\t$took\t0" >>"$RESULTS"
  return 0
}

# The repository every clone reads: pushed once per server (not timed).
git init -q --bare "$WORK/daemon/bench.git"
git --git-dir="$WORK/src.git" push -q "$(url daemon bench.git)" main
via quic
git --git-dir="$WORK/src.git" push -q "$(url quic bench)" main
wait_maintenance bench

echo "== warm-up round (not timed)"
for c in $CASES; do
  via "$c"
  git clone -q --bare "$(url "$c" bench.git)" "$WORK/warm-$c"
  rm -rf "$WORK/warm-$c"
  git ls-remote "$(url "$c" bench.git)" >/dev/null
  [ "$c" = daemon ] && git init -q --bare "$WORK/daemon/warm-$c.git"
  git --git-dir="$WORK/src.git" push -q "$(url "$c" "warm-$c")" main
  [ "$c" = daemon ] || wait_maintenance "warm-$c"
done

for round in $(seq "$ROUNDS"); do
  for c in $CASES; do
    via "$c"
    # clone
    cpu0=$(node_cpu)
    t0=$(now)
    if git clone -q --bare "$(url "$c" bench.git)" "$WORK/clone-$c-$round" 2>"$RUN/clone-$c-$round.err"; then
      t1=$(now)
      cpu1=$(node_cpu)
      echo -e "clone\t$c\t$round\t$(diff "$t0" "$t1")\t$(diff "$cpu0" "$cpu1")" >>"$RESULTS"
    else
      echo "   clone $c round $round FAILED: $(tail -1 "$RUN/clone-$c-$round.err")"
      echo -e "failed\t$c\t$round\tclone\t0" >>"$RESULTS"
    fi
    rm -rf "$WORK/clone-$c-$round"
    # ls-remote: the fixed cost of one git operation
    t0=$(now)
    git ls-remote "$(url "$c" bench.git)" >/dev/null
    t1=$(now)
    echo -e "ls-remote\t$c\t$round\t$(diff "$t0" "$t1")\t0" >>"$RESULTS"
    # push into a new repository
    target="push-$c-$round"
    [ "$c" = daemon ] && git init -q --bare "$WORK/daemon/$target.git"
    cpu0=$(node_cpu)
    t0=$(now)
    git --git-dir="$WORK/src.git" push -q "$(url "$c" "$target")" main
    t1=$(now)
    cpu1=$(node_cpu)
    echo -e "push\t$c\t$round\t$(diff "$t0" "$t1")\t$(diff "$cpu0" "$cpu1")" >>"$RESULTS"
    [ "$c" = daemon ] || wait_maintenance "$target"
    echo "   round $round $c done"
  done
done
bench_load end

NO_DOCS=${NO_DOCS:-} bench_report "$RESULTS" "$RUN/repo.txt" "$OUT" "$LOAD_START" "$LOAD_END" "$ROUNDS" <<'PY'
import statistics
results, repo_txt, out, load_start, load_end, rounds = sys.argv[1:7]
rows = [l.rstrip("\n").split("\t") for l in open(results) if l.strip()]
def med(op, c, col=3):
    v = [float(r[col]) for r in rows if r[0] == op and r[1] == c]
    return statistics.median(v) if v else float("nan")
def ratios(op, c):
    """alknet / daemon per round (both timed in that round), for rounds where both succeeded."""
    t = {(r[1], r[2]): float(r[3]) for r in rows if r[0] == op}
    return [t[(c, n)] / t[("daemon", n)] for (k, n) in t if k == c and ("daemon", n) in t]
def ratio(op, c):
    v = ratios(op, c)
    if not v:
        return "–"
    return f"{statistics.median(v):.2f}× ({min(v):.2f}–{max(v):.2f})"
rev, cpu, when = run_facts()
repo = open(repo_txt).read().strip().splitlines()[-1].replace("generated ", "")
lines = [f"Run {when} at {rev}, {cpu}, load average {load_start} at start and {load_end} at end; "
         f"{rounds} rounds. Repository: {repo.split(': ',1)[-1]}. Reproduce: `bench/git.sh`.", "",
         "Times: median of the rounds. Ratios: median of the per-round ratios alknet / git daemon "
         "(range).", "",
         "| operation | git daemon (git://) | alknet/git QUIC | ratio | alknet/git TLS/TCP | ratio "
         "| QUIC, agent | ratio | TLS/TCP, agent | ratio |",
         "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
for op in ("clone", "push", "ls-remote"):
    cells = [f"{med(op, 'daemon'):.2f} s"]
    for c in ("quic", "tcp", "quic-agent", "tcp-agent"):
        cells += [f"{med(op, c):.2f} s", ratio(op, c)]
    lines.append(f"| `git {op}` | " + " | ".join(cells) + " |")
failed = [f"{r[3]} over {r[1]} in round {r[2]}" for r in rows if r[0] == "failed"]
maint = [float(r[3]) for r in rows if r[0] == "maintenance"]
lines += ["",
          f"Node CPU per clone (JGit pack generation + TLS/QUIC + stream): QUIC {med('clone','quic',4):.2f} s, "
          f"TLS/TCP {med('clone','tcp',4):.2f} s; per push (JGit indexing the received pack): "
          f"QUIC {med('push','quic',4):.2f} s, TLS/TCP {med('push','tcp',4):.2f} s. "
          "Measured after a warm-up round, so the node's JIT is warm. The agent columns: the "
          "helper hands its connection to an `alknet agent` started by the script (docs/cli.md); "
          "the others connect by themselves (`ALKNET_AGENT=0`).", ""]
if maint:
    lines += [f"Background maintenance after each push of the repository (JGit GC with bitmap indexes, "
              f"not part of the push's time; the next operation waited for it): median "
              f"{statistics.median(maint):.1f} s over {len(maint)} runs.", ""]
if failed:
    lines += ["Failed (left out of the medians): " + "; ".join(failed) + ".", ""]
section = "\n".join(lines) + "\n"
publish(section, out, "git", "git", os.environ.get("NO_DOCS"))
PY
