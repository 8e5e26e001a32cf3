# Shared by the bench scripts (bench/endpoint.sh, bench/call.sh); sourced, not run:
#
#   . "$(dirname "$0")/lib.sh"
#
# Sourcing it changes to the repository root and sets ROOT, OUT (bench/results, created) and STAMP
# (UTC time for result file names).

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
OUT="$ROOT/bench/results"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"

# need COMMAND INSTALL-HINT: stop unless COMMAND is on the PATH.
need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "$(basename "$0"): $1 not found. Install it with: $2" >&2
    exit 1
  fi
}

# bench_build FILE...: build (tests skipped) unless every FILE exists and no source is newer than
# the first one.
bench_build() {
  local f stale=""
  for f in "$@"; do
    [ -f "$f" ] || stale=1
  done
  if [ -n "$stale" ] || [ -n "$(find src pom.xml -newer "$1" -type f -print -quit)" ]; then
    echo "== building (./mvnw -B -o -q -DskipTests package)"
    ./mvnw -B -o -q -DskipTests package
  fi
}

# bench_classpath [--needs NAME] [--or-packaged]: sets CP to main + test classes + the dependencies.
# The dependency list is kept in $OUT/classpath.txt and made again when pom.xml is newer or it does
# not name NAME. --or-packaged: when Maven cannot make it, use the packaged app's jars instead.
bench_classpath() {
  local needs="" packaged=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --needs) needs=$2; shift 2 ;;
      --or-packaged) packaged=1; shift ;;
      *) echo "bench_classpath: unknown option $1" >&2; exit 2 ;;
    esac
  done
  local cpfile="$OUT/classpath.txt"
  if [ ! -s "$cpfile" ] || [ pom.xml -nt "$cpfile" ] || { [ -n "$needs" ] && ! grep -q "$needs" "$cpfile"; }; then
    local dep=org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath
    if [ -n "$packaged" ]; then
      ./mvnw -B -o -q "$dep" -Dmdep.outputFile="$cpfile" >/dev/null 2>&1 ||
        ./mvnw -B -q "$dep" -Dmdep.outputFile="$cpfile" >/dev/null 2>&1 ||
        { ls target/quarkus-app/lib/boot/*.jar target/quarkus-app/lib/main/*.jar | paste -sd: >"$cpfile"; }
    else
      ./mvnw -B -o -q "$dep" -Dmdep.outputFile="$cpfile" >/dev/null 2>&1 ||
        ./mvnw -B -q "$dep" -Dmdep.outputFile="$cpfile" >/dev/null
    fi
  fi
  CP="$ROOT/target/classes:$ROOT/target/test-classes:$(cat "$cpfile")"
}

# bench_load start|end: sets LOAD_START or LOAD_END (1/5/15 min load average) and prints it.
bench_load() {
  if [ "$1" = start ]; then
    LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "== load average at start: $LOAD_START ($(nproc) CPUs)"
  else
    LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "== load average at end: $LOAD_END"
  fi
}

# bench_java CLASS RESULTS-FILE ARG...: runs the bench main net.alknet.bench.CLASS on $CP; its
# RESULT lines go to RESULTS-FILE only, the rest of its output is shown.
bench_java() {
  local class=$1
  shift
  java --enable-native-access=ALL-UNNAMED -XX:+UseG1GC -Xmx1g -cp "$CP" \
    "net.alknet.bench.$class" "$@" |
    grep -v '^RESULT '
}

# bench_report ARG...: runs the report, Python on stdin, with ARG... as sys.argv[1:] and these
# helpers defined:
#   read_results(path)  the RESULT lines of a results file, as {key: value} (quotes taken off)
#   run_facts()         (short commit, CPU model, "YYYY-MM-DD HH:MM UTC" now)
#   publish(section, out, name, heading, no_docs)
#                       writes out/NAME-latest.md and prints it; unless no_docs, puts it between
#                       the markers <!-- NAME-bench:start/end --> of docs/benchmarks.md (added at
#                       the end under "## HEADING" when missing)
bench_report() {
  python3 -c "$BENCH_PY"$'\n'"$(cat)" "$@"
}

BENCH_PY=$(cat <<'EOF'
import datetime, os, subprocess, sys

def read_results(path):
    r = {}
    for line in open(path):
        if line.startswith("RESULT "):
            _, k, v = line.rstrip("\n").split(" ", 2)
            r[k] = v.strip('"')
    return r

def run_facts():
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    cpu_model = ""
    try:
        for l in open("/proc/cpuinfo"):
            if l.startswith("model name"):
                cpu_model = l.split(":", 1)[1].strip(); break
    except OSError:
        pass
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return rev, cpu_model, now

def publish(section, out, name, heading, no_docs):
    with open(os.path.join(out, f"{name}-latest.md"), "w") as fh:
        fh.write(section)
    print()
    print(section)
    if no_docs:
        return
    doc = "docs/benchmarks.md"
    start, end = f"<!-- {name}-bench:start -->", f"<!-- {name}-bench:end -->"
    if not os.path.exists(doc):
        with open(doc, "w") as fh:
            fh.write("# Benchmarks\n")
    text = open(doc).read()
    if start not in text or end not in text:
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n" + start + "\n" + end + "\n"
    a, b = text.index(start) + len(start), text.index(end)
    text = text[:a] + "\n" + section + text[b:]
    with open(doc, "w") as fh:
        fh.write(text)
    print(f"updated {doc}")

EOF
)
