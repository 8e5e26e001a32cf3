#!/usr/bin/env bash
# SSH gateway benchmark: bulk throughput of one download through `ssh -N -L` via the node's SSH
# gateway (ALPN alknet/ssh, reached through `alknet bridge` as ProxyCommand) over QUIC and over
# TLS 1.3/TCP, side by side in one run with stock OpenSSH `sshd` over plain TCP. MiB/s per tunnel,
# the ratios alknet / sshd, and CPU seconds per GiB of every process on the path.
#
#   bench/ssh.sh            # ~7 minutes; rewrites the SSH gateway section of docs/benchmarks.md
#   bench/ssh.sh --help     # this text
#
# One payload source on 127.0.0.1 (a small Python HTTP server: GET /N answers N zero bytes,
# written 1 MiB at a time) and three tunnels to it, set up once and kept for the whole run, all
# from the same stock `ssh` client with the same key, the same `-o Ciphers=` and the same forward
# `-L LOCAL:127.0.0.1:SOURCE`:
#   sshd       /usr/sbin/sshd -D on a free loopback port with a throwaway sshd_config (generated
#              Ed25519 host key, AuthorizedKeysFile in the temp dir, UsePAM no, StrictModes no);
#   alknet     the packaged node (`bin/alknet serve`, authorized_keys with scopes="ssh", default
#   QUIC/TCP   forwarding policy) and `ssh -o ProxyCommand='bin/alknet bridge [--tcp] --alpn
#              alknet/ssh 127.0.0.1:PORT'`: the SSH bytes cross the bridge's stdin/stdout pipes and
#              one QUIC stream, or one TLS 1.3/TCP connection.
# `curl -o /dev/null` downloads SIZE MiB through a tunnel; MiB/s = bytes / curl's time_total
# (connect + channel open + transfer). A warm-up pass downloads WARMUP MiB once per tunnel (JIT of
# the node and bridge JVMs: C2 is still compiling the crypto and copy loops after the first GiB or
# so, and a long-running node or a long-lived tunnel is past that), then ROUNDS measured rounds download SIZE MiB through every tunnel,
# interleaved (the order of the three tunnels rotates between rounds). The ratios alknet / sshd are
# taken per round (the downloads of a round are seconds apart) and reported as median and range.
# CPU: utime+stime from /proc of the server side (the node JVM; sshd's listener and its
# per-connection children), the bridge JVM and the ssh client, per GiB moved; the node's and the
# bridge's also by thread (names with their numbers taken off). What ssh negotiated (kex, cipher,
# MAC) comes from its DEBUG1 log.
#
# Environment: SIZE (MiB per measured download, default 512), WARMUP (MiB per tunnel in the warm-up
# pass, default 2048), ROUNDS (default 3), CIPHERS (space-separated; one pass per cipher, each with
# its own three tunnels; default "chacha20-poly1305@openssh.com aes128-gcm@openssh.com", the first
# being what OpenSSH picks by itself), BRIDGE_JAVA_OPTS (JVM options of the bridges; the node's go
# in ALKNET_JAVA_OPTS), JFR=1 (record the node and the bridges with JFR, profile settings, to
# bench/results/ssh-*/), NO_DOCS=1 (do not touch docs/benchmarks.md).
# Results go to bench/results/ (gitignored). Installs sshd (Debian package openssh-server) and curl
# with apt-get when they are missing and this runs as root; builds the packaged node when it is
# missing or older than a source.
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
SIZE=${SIZE:-512}
WARMUP=${WARMUP:-2048}
ROUNDS=${ROUNDS:-3}
CIPHERS=${CIPHERS:-chacha20-poly1305@openssh.com aes128-gcm@openssh.com}
SSHD=/usr/sbin/sshd

# ---- tools: sshd from Debian's openssh-server (and curl), installed when missing (as root)
install_pkg() {
  echo "== installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
}
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  [ -x "$SSHD" ] || install_pkg openssh-server
  command -v curl >/dev/null 2>&1 || install_pkg curl
  command -v ssh >/dev/null 2>&1 || install_pkg openssh-client
fi
[ -x "$SSHD" ] || { echo "$(basename "$0"): $SSHD not found. Install it with: apt-get install -y openssh-server" >&2; exit 1; }
need ssh "apt-get install -y openssh-client"
need ssh-keygen "apt-get install -y openssh-client"
need curl "apt-get install -y curl"
need python3 "apt-get install -y python3"
need java "apt-get install -y openjdk-17-jdk-headless"

# ---- build the packaged node when it is missing or a main source is newer (tests, format checks
# and the JS client tests skipped: they do not change the jar)
JAR="target/quarkus-app/quarkus-run.jar"
if [ ! -f "$JAR" ] || [ -n "$(find src/main pom.xml -newer "$JAR" -type f -print -quit)" ]; then
  echo "== building (./mvnw -B -o -q -DskipTests -DskipJsTests package)"
  ./mvnw -B -o -q -DskipTests -DskipJsTests package ||
    ./mvnw -B -q -DskipTests -DskipJsTests package
fi

RUN="$OUT/ssh-$STAMP" # kept: node, sshd and ssh logs, runs.tsv, threads.tsv (and JFR recordings)
WORK=$(mktemp -d)     # removed: data dirs, keys, sshd_config
mkdir -p "$RUN" "$WORK/node" "$WORK/client" "$WORK/sshd"
PIDS=() # every process started here, stopped in reverse order at exit
cleanup() {
  local i pid
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
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
# await_port PORT PID WHAT LOG...: waits (60 s) until 127.0.0.1:PORT accepts while PID lives.
await_port() {
  for _ in $(seq 600); do
    if ! kill -0 "$2" 2>/dev/null; then
      echo "$3 stopped; its log (${*:4}):" >&2
      cat "${@:4}" >&2
      exit 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "$3 did not listen on 127.0.0.1:$1 in 60 s; see $4" >&2
  exit 1
}

# ---- the payload source: GET /N answers N zero bytes (HTTP/1.1, Content-Length, 1 MiB writes)
SRC=$(free_port)
cat >"$WORK/source.py" <<'EOF'
import socket, socketserver, sys

CHUNK = memoryview(bytes(1 << 20))

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        req = b""
        while b"\r\n\r\n" not in req:
            got = self.request.recv(4096)
            if not got:
                return
            req += got
        n = int(req.split(b" ", 2)[1].lstrip(b"/") or b"0")
        self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n" % n)
        while n > 0:
            k = min(n, len(CHUNK))
            self.request.sendall(CHUNK[:k])
            n -= k

class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
EOF
python3 "$WORK/source.py" "$SRC" >"$RUN/source.log" 2>&1 &
PIDS+=($!)
await_port "$SRC" "$!" "the payload source" "$RUN/source.log"

# ---- one client key for all three servers
ssh-keygen -q -t ed25519 -N "" -C alknet-bench -f "$WORK/key"
USER_NAME=$(id -un)

# ---- stock sshd: throwaway config, host key and authorized_keys in the temp dir
SSHD_PORT=$(free_port)
ssh-keygen -q -t ed25519 -N "" -C sshd-bench -f "$WORK/sshd/host_ed25519"
cp "$WORK/key.pub" "$WORK/sshd/authorized_keys"
cat >"$WORK/sshd/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSHD_PORT
HostKey $WORK/sshd/host_ed25519
AuthorizedKeysFile $WORK/sshd/authorized_keys
PidFile $WORK/sshd/sshd.pid
UsePAM no
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding yes
X11Forwarding no
AllowAgentForwarding no
PrintMotd no
LogLevel INFO
EOF
[ "$(id -u)" = 0 ] && mkdir -p /run/sshd # sshd's compiled-in privilege separation directory
"$SSHD" -t -f "$WORK/sshd/sshd_config"
"$SSHD" -D -e -f "$WORK/sshd/sshd_config" >"$RUN/sshd.log" 2>&1 &
SSHD_PID=$!
PIDS+=("$SSHD_PID")
await_port "$SSHD_PORT" "$SSHD_PID" "sshd" "$RUN/sshd.log"

# ---- the node: endpoint on a free port (TCP and UDP), the key authorized for scope ssh, the
# default forwarding policy (loopback destinations); management port on a free port.
PORT=$(free_port udp)
printf 'scopes="ssh" %s\n' "$(cat "$WORK/key.pub")" >"$WORK/node/authorized_keys"
NODE_OPTS="-Dquarkus.management.port=0"
if [ "${JFR:-}" = 1 ]; then
  NODE_OPTS+=" -XX:StartFlightRecording=filename=$RUN/node.jfr,settings=profile"
fi
echo "== node: endpoint on 127.0.0.1:$PORT; sshd on 127.0.0.1:$SSHD_PORT; payload source on 127.0.0.1:$SRC"
ALKNET_JAVA_OPTS="${ALKNET_JAVA_OPTS:-} $NODE_OPTS" \
  bin/alknet serve --data-dir "$WORK/node" --port "$PORT" --bind 127.0.0.1 >"$RUN/node.log" 2>&1 &
NODE_PID=$! # bin/alknet execs java: this is the node's JVM
PIDS+=("$NODE_PID")
for _ in $(seq 600); do
  if ! kill -0 "$NODE_PID" 2>/dev/null; then
    echo "the node stopped; its log:" >&2
    cat "$RUN/node.log" >&2
    exit 1
  fi
  grep -q "alknet endpoint listening" "$RUN/node.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "alknet endpoint listening" "$RUN/node.log" ||
  { echo "the node did not start in 60 s; see $RUN/node.log" >&2; exit 1; }

# ---- tunnels: tunnel CIPHER-INDEX CIPHER KIND (sshd | quic | tcp) starts `ssh -N -L` and sets
# LOCAL_<kind><index> (its local port) and SSH_<kind><index> (the ssh client's pid).
tunnel() {
  local i=$1 cipher=$2 kind=$3 local_port name log proxy=()
  local_port=$(free_port)
  name="$kind-$i"
  log="$RUN/ssh-$name.log"
  if [ "$kind" != sshd ]; then
    local opts="${BRIDGE_JAVA_OPTS:-}" tcp=""
    if [ "${JFR:-}" = 1 ]; then
      opts+=" -XX:StartFlightRecording=filename=$RUN/bridge-$name.jfr,settings=profile"
    fi
    if [ "$kind" = tcp ]; then tcp=--tcp; fi
    # One bridge run with the same environment first: the first one makes the client's AppCDS
    # archive (docs/cli.md), as a user's first connection would, so the tunnel's bridge maps it.
    HOME="$WORK" ALKNET_JAVA_OPTS="$opts" "$ROOT/bin/alknet" bridge --data-dir "$WORK/client" $tcp \
      --alpn alknet/echo "127.0.0.1:$PORT" </dev/null >/dev/null 2>>"$RUN/bridge-archive.log" ||
      { echo "a bridge to the node failed; see $RUN/bridge-archive.log" >&2; exit 1; }
    # OpenSSH runs ProxyCommand with exec, and bin/alknet execs java: the ssh's child is the JVM
    # (without an archive bin/alknet waits for it as a child instead; download() looks for it).
    proxy=(-o "ProxyCommand=env ALKNET_JAVA_OPTS='$opts' $ROOT/bin/alknet bridge --data-dir $WORK/client $tcp --alpn alknet/ssh 127.0.0.1:$PORT")
  fi
  HOME="$WORK" ssh -F /dev/null -i "$WORK/key" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ExitOnForwardFailure=yes \
    -o Ciphers="$cipher" -o LogLevel=DEBUG1 -E "$log" "${proxy[@]}" \
    -N -L "$local_port:127.0.0.1:$SRC" -p "$SSHD_PORT" "$USER_NAME@127.0.0.1" </dev/null \
    2>"$RUN/ssh-$name.stderr" & # ssh's stderr: the bridge's messages
  local pid=$!
  PIDS+=("$pid")
  await_port "$local_port" "$pid" "ssh ($name)" "$log" "$RUN/ssh-$name.stderr"
  printf -v "LOCAL_$kind$i" '%s' "$local_port"
  printf -v "SSH_$kind$i" '%s' "$pid"
}

# io PID FIELD: a counter of /proc/PID/io (syscr: read calls, syscw: write calls); 0 when gone.
io() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/io" 2>/dev/null || echo 0; }
# ticks PID...: utime+stime (clock ticks) of the processes, summed; 0 for one that is gone.
ticks() {
  local p t=0 v
  for p in "$@"; do
    v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
    t=$((t + v))
  done
  echo "$t"
}
# tree PID: PID and all its descendants.
tree() {
  local c
  echo "$1"
  for c in $(pgrep -P "$1" 2>/dev/null || true); do tree "$c"; done
}
# threads PID LABEL: one line per thread, "LABEL<TAB>name<TAB>ticks", appended to $1.threads
threads() {
  local f
  for f in /proc/"$1"/task/*/stat; do
    awk -v l="$2" '{ s = $0; sub(/^[^(]*\(/, "", s); n = s; sub(/\).*$/, "", n); sub(/^.*\) /, "", s);
      split(s, a, " "); printf "%s\t%s\t%d\n", l, n, a[12] + a[13] }' "$f" 2>/dev/null || true
  done
}

# download NAME KIND INDEX MIB: one curl download through the tunnel; appends a line to runs.tsv
# (name, kind, cipher index, bytes, seconds, server ticks, bridge ticks, ssh client ticks, read
# calls of the ssh client, write calls of the bridge) and the
# node's and bridge's per-thread ticks before/after to threads.tsv.
download() {
  local name=$1 kind=$2 i=$3 mib=$4 lp sp bp server s0 s1 b0 b1 c0 c1 r0 r1 w0 w1 got
  lp=LOCAL_$kind$i
  lp=${!lp}
  sp=SSH_$kind$i
  sp=${!sp}
  bp=""
  if [ "$kind" != sshd ]; then
    bp=$(pgrep -P "$sp" | head -1 || true)
    while [ -n "$bp" ] && [ "$(cat "/proc/$bp/comm" 2>/dev/null)" != java ]; do
      bp=$(pgrep -P "$bp" | head -1 || true)
    done
  fi
  if [ "$kind" = sshd ]; then server=$(tree "$SSHD_PID"); else server=$NODE_PID; fi
  if [ "$kind" != sshd ]; then
    { threads "$NODE_PID" "$name before node"; threads "$bp" "$name before bridge"; } >>"$RUN/threads.tsv"
  fi
  # shellcheck disable=SC2086
  s0=$(ticks $server)
  b0=$(ticks $bp)
  c0=$(ticks "$sp")
  r0=$(io "$sp" syscr)
  w0=0
  [ -z "$bp" ] || w0=$(io "$bp" syscw)
  got=$(curl -sS --max-time 900 -o /dev/null -w '%{size_download} %{time_total}' \
    "http://127.0.0.1:$lp/$((mib * 1024 * 1024))") ||
    { echo "curl through $kind failed" >&2; exit 1; }
  # shellcheck disable=SC2086
  s1=$(ticks $server)
  b1=$(ticks $bp)
  c1=$(ticks "$sp")
  r1=$(io "$sp" syscr)
  w1=0
  [ -z "$bp" ] || w1=$(io "$bp" syscw)
  if [ "$kind" != sshd ]; then
    { threads "$NODE_PID" "$name after node"; threads "$bp" "$name after bridge"; } >>"$RUN/threads.tsv"
  fi
  set -- $got
  [ "$1" = $((mib * 1024 * 1024)) ] || { echo "$kind: got $1 bytes, wanted $((mib * 1024 * 1024))" >&2; exit 1; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$kind" "$i" "$1" "$2" \
    "$((s1 - s0))" "$((b1 - b0))" "$((c1 - c0))" "$((r1 - r0))" "$((w1 - w0))" >>"$RUN/runs.tsv"
  awk -v b="$1" -v t="$2" 'BEGIN { printf "%.1f MiB/s (%.1f s)\n", b / 1048576 / t, t }'
}

KINDS="sshd quic tcp"
i=0
for cipher in $CIPHERS; do
  i=$((i + 1))
  echo "== tunnels with $cipher: sshd, alknet QUIC, alknet TLS/TCP"
  for kind in $KINDS; do tunnel "$i" "$cipher" "$kind"; done
done

bench_load start
: >"$RUN/runs.tsv"
: >"$RUN/threads.tsv"
echo "== warm-up: $WARMUP MiB through every tunnel"
i=0
for cipher in $CIPHERS; do
  i=$((i + 1))
  for kind in $KINDS; do
    printf '   %-30s %-5s ' "$cipher" "$kind"
    download "warmup-$kind-$i" "$kind" "$i" "$WARMUP"
  done
done
mv "$RUN/runs.tsv" "$RUN/warmup.tsv"
: >"$RUN/runs.tsv"
: >"$RUN/threads.tsv"
echo "== $ROUNDS measured rounds, $SIZE MiB per download"
for round in $(seq "$ROUNDS"); do
  case $((round % 3)) in
    1) order="sshd quic tcp" ;;
    2) order="tcp sshd quic" ;;
    0) order="quic tcp sshd" ;;
  esac
  i=0
  for cipher in $CIPHERS; do
    i=$((i + 1))
    for kind in $order; do
      printf '   round %s %-30s %-5s ' "$round" "$cipher" "$kind"
      download "r$round-$kind-$i" "$kind" "$i" "$SIZE"
    done
  done
done
bench_load end

# ---- what each ssh negotiated, from its DEBUG1 log
: >"$RUN/negotiated.tsv"
i=0
for cipher in $CIPHERS; do
  i=$((i + 1))
  for kind in $KINDS; do
    log=$(tr -d '\r' <"$RUN/ssh-$kind-$i.log") # ssh -E ends its lines with CR LF
    printf '%s\t%s\t%s\t%s\t%s\n' "$kind" "$i" \
      "$(grep -m1 -o 'kex: algorithm: .*' <<<"$log" | cut -d' ' -f3 || true)" \
      "$(grep -m1 -o 'kex: server->client cipher: [^ ]* MAC: [^ ]*' <<<"$log" | cut -d' ' -f4,6 || true)" \
      "$(grep -m1 -o 'Remote protocol version [^,]*, remote software version [^ ]*' <<<"$log" | awk '{ print $NF }' || true)" \
      >>"$RUN/negotiated.tsv"
  done
done

# ---- report
bench_report "$OUT" "$RUN" "$LOAD_START" "$LOAD_END" "$SIZE" "$WARMUP" "$ROUNDS" "$CIPHERS" \
  "$(getconf CLK_TCK)" "$(ssh -V 2>&1)" "$(java -version 2>&1 | head -1)" "${NO_DOCS:-}" <<'EOF'
import re
(out, run, load_start, load_end, size, warmup, rounds, ciphers, clk_tck, ssh_version, java_version,
 no_docs) = sys.argv[1:13]
clk_tck = int(clk_tck)
ciphers = ciphers.split()
GIB = 1 << 30

runs = [l.rstrip("\n").split("\t") for l in open(os.path.join(run, "runs.tsv")) if l.strip()]
neg = {}
for l in open(os.path.join(run, "negotiated.tsv")):
    kind, i, kex, cipher_mac, software = (l.rstrip("\n").split("\t") + [""] * 5)[:5]
    neg[(kind, int(i))] = (kex, cipher_mac, software)

def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2

cases = {}
for name, kind, i, nbytes, secs, st, bt, ct, reads, writes in runs:
    rnd = int(name.split("-")[0][1:])
    c = cases.setdefault((kind, int(i)), {"mibps": {}, "bytes": 0, "server": 0, "bridge": 0, "client": 0,
                                          "reads": 0, "writes": 0})
    c["reads"] += int(reads)
    c["writes"] += int(writes)
    c["mibps"][rnd] = int(nbytes) / (1 << 20) / float(secs)
    c["bytes"] += int(nbytes)
    c["server"] += int(st)
    c["bridge"] += int(bt)
    c["client"] += int(ct)
for c in cases.values():
    g = c["bytes"] / GIB
    for k in ("server", "bridge", "client"):
        c[k + "_per_gib"] = c[k] / clk_tck / g

# per-thread CPU of the node and the bridge, measured rounds only, grouped by name without numbers
def group(name):
    name = re.sub(r"\[[^\]]*\]?.*$", "", name)       # sshd-SshServer[6a2b…](port=…
    name = re.sub(r"[-_#\s]*\d+$", "", name)
    name = re.sub(r"[-_#\s]*\d+$", "", name)
    return name or "?"
snap = {}
for l in open(os.path.join(run, "threads.tsv")):
    label, tname, t = l.rstrip("\n").split("\t")
    dl, when, proc = label.split(" ")
    snap.setdefault((dl, proc, when), {}).setdefault(tname, []).append(int(t))
threads = {}
for (dl, proc, when), before in snap.items():
    if when != "before":
        continue
    after = snap.get((dl, proc, "after"), {})
    kind, i = dl.split("-")[1], int(dl.split("-")[2])
    acc = threads.setdefault((kind, i, proc), {})
    for tname, ts in after.items():
        b = before.get(tname, [])
        # threads of one name: sum after - sum before (new threads count in full, ended ones drop)
        d = sum(ts) - sum(b)
        if d > 0:
            acc[group(tname)] = acc.get(group(tname), 0) + d

def thread_str(kind, i, proc):
    acc = threads.get((kind, i, proc), {})
    g = cases[(kind, i)]["bytes"] / GIB
    total = sum(acc.values())
    items = sorted(acc.items(), key=lambda kv: -kv[1])
    shown = [(k, v) for k, v in items if v / total >= 0.03] if total else []
    rest = total - sum(v for _, v in shown)
    parts = [f"{k} {v / clk_tck / g:.2f}" for k, v in shown]
    if rest > 0:
        parts.append(f"other {rest / clk_tck / g:.2f}")
    return ", ".join(parts)

KINDS = (("sshd", "OpenSSH sshd, TCP"), ("quic", "alknet gateway, QUIC"), ("tcp", "alknet gateway, TLS 1.3/TCP"))
rev, cpu_model, now = run_facts()
busy = float(load_start.split()[0]) > 1.5 or float(load_end.split()[0]) > 1.5
sshd_sw = neg.get(("sshd", 1), ("", "", ""))[2]
md = []
md.append(f"Run {now}, commit `{rev}`, {os.cpu_count()} CPUs ({cpu_model}) shared by everything on the "
          f"path (curl, ssh, the bridge JVM, the node JVM or sshd, the payload source), loopback. "
          f"{ssh_version} client; server {sshd_sw}; {java_version}. {rounds} measured rounds of "
          f"{size} MiB per tunnel (interleaved: the order of the three tunnels rotates between rounds), "
          f"after a {warmup} MiB warm-up download per tunnel. Load average (1/5/15 min): {load_start} "
          f"at start, {load_end} at end{' — other work was running on this machine' if busy else ''}.")
md.append("")
md.append("| Cipher | Tunnel | Negotiated (kex; cipher, MAC) | MiB/s, median of rounds | MiB/s per round | "
          "CPU s/GiB: server | bridge | ssh client | total | KiB per read(2) of ssh | per write(2) of the bridge |")
md.append("|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|")
for i, cipher in enumerate(ciphers, 1):
    for kind, kname in KINDS:
        c = cases[(kind, i)]
        kex, cm, _ = neg.get((kind, i), ("?", "?", ""))
        per = ", ".join(f"{c['mibps'][r]:.1f}" for r in sorted(c["mibps"]))
        tot = c["server_per_gib"] + c["bridge_per_gib"] + c["client_per_gib"]
        bridge = f"{c['bridge_per_gib']:.2f}" if kind != "sshd" else "–"
        rd = f"{c['bytes'] / 1024 / c['reads']:.1f}" if c["reads"] else "?"
        wr = f"{c['bytes'] / 1024 / c['writes']:.1f}" if kind != "sshd" and c["writes"] else "–"
        md.append(f"| {cipher} | {kname} | {kex}; {cm.replace(' ', ', ')} | {median(c['mibps'].values()):.1f} | "
                  f"{per} | {c['server_per_gib']:.2f} | {bridge} | {c['client_per_gib']:.2f} | {tot:.2f} | "
                  f"{rd} | {wr} |")
md.append("")
md.append("| Cipher | Tunnel | MiB/s alknet / sshd: median of rounds (range) | Server CPU/GiB alknet / sshd | "
          "Total CPU/GiB alknet / sshd | Goal: ≥ 0.8× OpenSSH (median of rounds) |")
md.append("|---|---|---:|---:|---:|---|")
for i, cipher in enumerate(ciphers, 1):
    s = cases[("sshd", i)]
    stot = s["server_per_gib"] + s["client_per_gib"]
    for kind, kname in KINDS[1:]:
        a = cases[(kind, i)]
        rr = [a["mibps"][r] / s["mibps"][r] for r in sorted(a["mibps"]) if r in s["mibps"]]
        m = median(rr)
        atot = a["server_per_gib"] + a["bridge_per_gib"] + a["client_per_gib"]
        md.append(f"| {cipher} | {kname} | {m:.2f} ({min(rr):.2f}–{max(rr):.2f}) | "
                  f"{a['server_per_gib'] / s['server_per_gib']:.1f} | {atot / stot:.1f} | "
                  f"{'met' if m >= 0.8 else 'not met'}: {m:.2f}× |")
md.append("")
md.append("CPU of the node and the bridge by thread (s/GiB, measured rounds; threads under 3 % of "
          "their process are summed as other):")
md.append("")
md.append("| Cipher | Tunnel | Node JVM | Bridge JVM |")
md.append("|---|---|---|---|")
for i, cipher in enumerate(ciphers, 1):
    for kind, kname in KINDS[1:]:
        md.append(f"| {cipher} | {kname} | {thread_str(kind, i, 'node')} | {thread_str(kind, i, 'bridge')} |")
md.append("")
md.append("MiB/s: bytes / curl's `time_total` for one download (connect, channel open and transfer). "
          "Ratios per round compare downloads seconds apart; their median is less moved by other work "
          "on the machine than a ratio of means. CPU s/GiB: utime+stime over the measured downloads / "
          "GiB moved; server = the node's JVM (which also serves the forwarded socket) or sshd's "
          "listener and per-connection processes; bridge = the `alknet bridge` JVM that ssh runs as "
          "ProxyCommand; ssh client = the `ssh -N -L` process. curl and the payload source are the "
          "same for every tunnel and not counted. KiB per read(2)/write(2): bytes downloaded / read "
          "system calls of the ssh client (from its TCP socket or, through the bridge, its ProxyCommand "
          "pipe) and / write calls of the bridge (to that pipe), from /proc/PID/io. Thread names are Linux's (15 characters) with their "
          "numbers taken off.")
section = "\n".join(md) + "\n"

publish(section, out, "ssh", "SSH gateway", no_docs)
EOF
echo "raw outputs: $RUN"
