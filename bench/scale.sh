#!/usr/bin/env bash
# Scale, beside Docker Compose v2.40.3 (its Go binary) in one run: config
# of 1,000 services, a 20,000-line env file, plan of a 4,000-long
# depends_on chain, and 500 containers: cold up -d against the engine's
# floor (bench/floor.rs), no-op up -d, ps, and orch's peak RSS. Not a
# test: prints medians and ratios (issue 13's targets beside them).
#
#   bench/scale.sh [RUNS] [SERVICES]       (default 5 runs, 500 services)
set -euo pipefail
# $EPOCHREALTIME and bc both need "." as the decimal point.
export LC_ALL=C
cd "$(dirname "$0")/.."
runs=${1:-5} n=${2:-500}
cargo build --release --quiet --bin orch --example engine-floor
orch=$PWD/target/release/orch
floor=$PWD/target/release/examples/engine-floor
. bench/lib.sh
ref=$(python3 -c "import compose, os; print(os.path.join(os.path.dirname(compose.__file__), 'docker-compose'))")
work=$(mktemp -d)
# Project names unique to this run, so nothing an interrupted earlier run
# left (a second network of the same name made the floor's "network
# bscale-f_default is ambiguous") meets this one; all removed on exit.
p=bscale$$
# Each run has its own names too: dockerd 20.10 under 500 containers can
# keep a removed project's network ("has active endpoints"; only a restart
# of the daemon clears it), and the next run must not meet it.
cleanup() {
    cd /
    local r
    for r in $(seq 0 "$runs"); do
        "$orch" -p $p-o$r down -t 0 >/dev/null 2>&1 || true
        "$ref" -p $p-c$r down -t 0 >/dev/null 2>&1 || true
        "$floor" --clean $p-f$r >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
# Seconds "$@" took; a failure ends the benchmark with the command and its
# last words (under set -e it used to end silently).
# The clock is bash's own ($EPOCHREALTIME): `date` is a process of its
# own, a millisecond or two added to both tools' times, which skews the
# ratio of a 40 ms command.
secs() {
    local s e
    s=$EPOCHREALTIME
    "$@" >/dev/null 2>"$work/err" || { echo "failed ($?): $* in $PWD" >&2; tail -5 "$work/err" >&2; exit 1; }
    e=$EPOCHREALTIME
    # Not `tee /dev/stderr`: with stderr sent to a file, tee opens that
    # file again, truncated, and each time overwrote the log's start.
    s=$(echo "$e - $s" | bc)
    echo "$s" >&2
    echo "$s"
}
quiet() { "$@" >/dev/null 2>"$work/err" || { echo "failed ($?): $*" >&2; tail -5 "$work/err" >&2; exit 1; }; }
# A down that fails is reported, not fatal: dockerd 20.10 under 500
# parallel containers can keep stale endpoints on the project's network
# ("has active endpoints" with no container attached, for compose's down
# as for orch's; only a daemon restart clears them). The containers are
# gone and each tool's project has its own network, so the run goes on.
down() { "$@" down -t 0 >/dev/null 2>"$work/err" || echo "note: $* down: $(tail -1 "$work/err")" >&2; }
med() { tr ' ' '\n' <<<"$1" | grep . | median; }

mkdir -p "$work/config" "$work/env" "$work/chain" "$work/up"
{ echo "services:"; for i in $(seq 0 999); do printf '  s%d:\n    image: busybox\n    environment: [INDEX=%d]\n    ports: ["%d:80"]\n' "$i" "$i" $((20000 + i)); done; } >"$work/config/compose.yaml"
{ echo "services:"; echo "  a:"; echo "    image: busybox"; echo "    env_file: big.env"; } >"$work/env/compose.yaml"
for i in $(seq 1 20000); do echo "VAR_$i=value $i with \${HOME} and text"; done >"$work/env/big.env"
{ echo "name: bchain"; echo "services:"; for i in $(seq 0 3999); do printf '  s%d:\n    image: busybox\n' "$i"; [ "$i" -gt 0 ] && printf '    depends_on: [s%d]\n' $((i - 1)); done; } >"$work/chain/compose.yaml"
sleeping_services "$n" >"$work/up/compose.yaml"

declare -A T
for r in $(seq 1 "$runs"); do
    cd "$work/config"; T[config,o]+="$(secs "$orch" config) "; T[config,c]+="$(secs "$ref" config) "
    cd "$work/env"; T[env,o]+="$(secs "$orch" config) "; T[env,c]+="$(secs "$ref" config) "
    cd "$work/chain"; T[chain,o]+="$(secs "$orch" plan) "
done
cd "$work/up"
for r in $(seq 1 "$runs"); do
    T[cold,o]+="$(secs "$orch" -p $p-o$r up -d) "
    T[warm,o]+="$(secs "$orch" -p $p-o$r up -d) "
    # ps: both tools on the same 500 containers (orch's), alternated, 9
    # times a run: one sample each, minutes apart, measured the engine's
    # moods more than the tools.
    for k in $(seq 1 9); do
        T[ps,o]+="$(secs "$orch" -p $p-o$r ps) "
        T[ps,c]+="$(secs "$ref" -p $p-o$r ps) "
    done
    down "$orch" -p $p-o$r
    T[cold,c]+="$(secs "$ref" -p $p-c$r up -d) "
    T[warm,c]+="$(secs "$ref" -p $p-c$r up -d) "
    down "$ref" -p $p-c$r
    T[cold,f]+="$("$floor" $p-f$r "$n" 1 "$image") "
    "$floor" --clean $p-f$r || echo "note: the floor's clean left resources (see above)" >&2
done
/usr/bin/time -f '%M' -o "$work/rss" "$orch" -p $p-o0 up -d >/dev/null 2>&1
rss=$(tail -1 "$work/rss")

printf '%-36s %9s %9s %9s %7s  %s\n' "median of $runs (ps: of $((runs * 9))) (s)" orch compose floor ratio target
row() { printf '%-36s %9.3f %9s %9s %7.2f  %s\n' "$1" "$2" "$3" "$4" "$5" "$6"; }
o=$(med "${T[config,o]}") c=$(med "${T[config,c]}"); row "config, 1,000 services" "$o" "$c" - "$(echo "$o / $c" | bc -l)" "<= 0.1 x compose"
o=$(med "${T[env,o]}") c=$(med "${T[env,c]}"); row "config, 20,000-line env file" "$o" "$c" - "$(echo "$o / $c" | bc -l)" "<= 0.5 x compose"
o=$(med "${T[chain,o]}"); row "plan, 4,000-long chain" "$o" - - "$o" "<= 1 s"
o=$(med "${T[cold,o]}") f=$(med "${T[cold,f]}") c=$(med "${T[cold,c]}"); row "cold up -d, $n services" "$o" "$c" "$f" "$(echo "$o / $f" | bc -l)" "<= 1.05 x floor"
o=$(med "${T[warm,o]}") c=$(med "${T[warm,c]}"); row "no-op up -d, $n services" "$o" "$c" - "$(echo "$o / $c" | bc -l)" "<= 0.2 x compose"
o=$(med "${T[ps,o]}") c=$(med "${T[ps,c]}"); row "ps, $n services" "$o" "$c" - "$(echo "$o / $c" | bc -l)" "<= 0.2 x compose"
echo "orch peak RSS, cold up -d of $n services: $((rss / 1024)) MB (target <= 40 MB)"
