#!/usr/bin/env bash
# Output commands, beside Docker Compose v2.40.3 (its Go binary) in one
# run, alternating (issue 14's speed lines). Not a test: prints medians
# and ratios with the targets beside them.
#
#   bench/output.sh [RUNS] [ORCH]    (default 5 runs; ORCH: a built orch,
#                                     default the release build of this tree)
#
# - `ps --format json` on a running project of 50 services;
# - `logs` (no -f: until EOF) of 50 services that printed 1,000 lines each;
# - attached `up` of 50 services, from the command to the first log line of
#   the last container to print one (each service prints a line as it
#   starts), then Ctrl-C and `down`.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
if [ -n "${2:-}" ]; then orch=$2; else
    cargo build --release --quiet --bin orch
    orch=$PWD/target/release/orch
fi
. bench/lib.sh
floor_py=$PWD/bench/logs_floor.py
ref=$(python3 -c "import compose, os; print(os.path.join(os.path.dirname(compose.__file__), 'docker-compose'))")
work=$(mktemp -d)
p=bout$$
trap 'cd "$work/logs" 2>/dev/null && { "$orch" -p $p-o down -t 0 >/dev/null 2>&1; "$ref" -p $p-c down -t 0 >/dev/null 2>&1; }; cd "$work/up" 2>/dev/null && { "$orch" -p $p-uo down -t 0 >/dev/null 2>&1; "$ref" -p $p-uc down -t 0 >/dev/null 2>&1; }; rm -rf "$work"' EXIT
n=50 lines=1000

# 50 services that print 1,000 lines, then sleep (and stop on SIGTERM).
mkdir -p "$work/logs" "$work/up"
{
    echo "services:"
    for i in $(seq 0 $((n - 1))); do
        printf '  s%d:\n    image: %s\n' "$i" "$image"
        printf '    command: ["sh", "-c", "trap '"'"'exit 0'"'"' TERM; i=0; while [ $$i -lt %d ]; do echo \\"s%d line $$i: the quick brown fox jumps over the lazy dog\\"; i=$$((i+1)); done; sleep 3600 & wait"]\n' "$lines" "$i"
    done
} >"$work/logs/compose.yaml"
# 50 services that print one line as they start.
{
    echo "services:"
    for i in $(seq 0 $((n - 1))); do
        printf '  s%d:\n    image: %s\n' "$i" "$image"
        printf '    command: ["sh", "-c", "trap '"'"'exit 0'"'"' TERM; echo started s%d; sleep 3600 & wait"]\n' "$i"
    done
} >"$work/up/compose.yaml"

# Milliseconds "$@" took, output to /dev/null; a failure ends the run.
ms() {
    local s e
    s=$(date +%s%N)
    "$@" >/dev/null 2>"$work/err" || { echo "failed ($?): $*" >&2; tail -5 "$work/err" >&2; exit 1; }
    e=$(date +%s%N)
    echo $(((e - s) / 1000000))
}
# Waits until project $2 of tool $1 has printed every line.
all_printed() {
    local k
    for k in $(seq 1 600); do
        [ "$("$1" -p "$2" logs --no-log-prefix 2>/dev/null | wc -l)" -ge $((n * lines)) ] && return 0
        sleep 0.5
    done
    echo "project $2 never printed its $((n * lines)) lines" >&2
    exit 1
}

cd "$work/logs"
"$orch" -p $p-o up -d --quiet-pull >/dev/null 2>&1
"$ref" -p $p-c up -d >/dev/null 2>&1
all_printed "$orch" $p-o
all_printed "$ref" $p-c
# Same rows (names, services, states), both tools, before timing anything.
rows() { "$1" -p "$2" ps --format json | python3 -c '
import json, sys
t = sys.stdin.read().strip()
rows = json.loads(t) if t.startswith("[") else [json.loads(l) for l in t.splitlines()]
print(sorted((r["Service"], r["State"]) for r in rows))'; }
[ "$(rows "$orch" $p-o)" = "$(rows "$ref" $p-c)" ] || { echo "ps --format json: the two tools list different rows" >&2; exit 1; }
[ "$("$orch" -p $p-o logs | wc -l)" = "$("$ref" -p $p-c logs | wc -l)" ] || { echo "logs: the two tools print different line counts" >&2; exit 1; }

declare -A T
for _ in $(seq 1 "$runs"); do
    T[ps,o]+="$(ms "$orch" -p $p-o ps --format json) "
    T[ps,c]+="$(ms "$ref" -p $p-c ps --format json) "
    T[logs,o]+="$(ms "$orch" -p $p-o logs) "
    T[logs,c]+="$(ms "$ref" -p $p-c logs) "
    # The engine alone (every log read at once, bytes only), same minutes.
    T[logs,f]+="$(python3 "$floor_py" $p-o 1 --ms) "
done
"$orch" -p $p-o down -t 0 >/dev/null 2>&1
"$ref" -p $p-c down -t 0 >/dev/null 2>&1

# Milliseconds from starting attached `up` to the last service's first
# line ("sN | started sN" for every N), then Ctrl-C, then down.
first_lines() {
    python3 - "$@" <<'PY'
import os, signal, subprocess, sys, time
n = 50
cmd = sys.argv[1:]
start = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
seen = set()
for raw in p.stdout:
    line = raw.decode(errors="replace")
    if "started s" in line:
        seen.add(line.rsplit("started ", 1)[1].strip())
        if len(seen) == n:
            break
took = (time.monotonic() - start) * 1000
p.send_signal(signal.SIGINT)
try:
    p.wait(60)
except subprocess.TimeoutExpired:
    p.kill()
if len(seen) < n:
    sys.exit(f"{cmd[0]}: only {len(seen)} of {n} services printed")
print(int(took))
PY
}
cd "$work/up"
for _ in $(seq 1 "$runs"); do
    T[up,o]+="$(first_lines "$orch" -p $p-uo up) "
    "$orch" -p $p-uo down -t 0 >/dev/null 2>&1
    T[up,c]+="$(first_lines "$ref" -p $p-uc up) "
    "$ref" -p $p-uc down -t 0 >/dev/null 2>&1
done

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
printf '%-52s %9s %9s %7s  %s\n' "median of $runs (ms)" orch compose ratio target
row() { printf '%-52s %9s %9s %7.2f  %s\n' "$1" "$2" "$3" "$(echo "$2 / $3" | bc -l)" "$4"; }
row "ps --format json, $n services" "$(med "${T[ps,o]}")" "$(med "${T[ps,c]}")" "<= 0.5 x compose"
row "logs until EOF, $n services x $lines lines" "$(med "${T[logs,o]}")" "$(med "${T[logs,c]}")" "<= 0.5 x compose"
row "  the engine alone (bench/logs_floor.py)" "$(med "${T[logs,f]}")" "$(med "${T[logs,c]}")" "(no client is faster)"
row "attached up, $n services, to the last first line" "$(med "${T[up,o]}")" "$(med "${T[up,c]}")" "<= 1.0 x compose"
