#!/usr/bin/env bash
# orch vs Docker Compose v2.40.3, side by side in one run, alternating.
# Not a test: it prints medians and ratios.
#
#   bench/compose.sh [RUNS]      (default 3 runs of each measurement)
#
# Scenarios (50 services each, image orch-test/busybox):
#   flat:  50 independent services        chain: 5 chains of 10 (depends_on)
# Measurements: cold `up -d`, `up -d` with nothing changed, `down`, the
# engine's floor for the same containers (bench/floor.rs), and orch's peak
# RSS during cold `up -d`.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
cargo build --release --quiet --bin orch --example engine-floor
orch=$PWD/target/release/orch
floor=$PWD/target/release/examples/engine-floor
. bench/lib.sh
reference_compose
work=$(mktemp -d)
trap 'for p in bflat bchain; do "$ref" -p $p-o down -t 0 >/dev/null 2>&1 || true; "$ref" -p $p-c down -t 0 >/dev/null 2>&1 || true; "$floor" --clean $p-f; done; rm -rf "$work"' EXIT

gen() {  # gen FILE CHAIN
    local file=$1 chain=$2
    echo "services:" > "$file"
    for i in $(seq 0 49); do
        printf '  s%d:\n    image: %s\n    command: ["sh", "-c", "trap '"'"'exit 0'"'"' TERM; sleep 3600 & wait"]\n' "$i" "$image" >> "$file"
        if [ "$chain" -gt 1 ] && [ $((i % chain)) -gt 0 ]; then
            printf '    depends_on: [s%d]\n' $((i - 1)) >> "$file"
        fi
    done
}

secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }

declare -A T
for scenario in flat chain; do
    chain=1; [ $scenario = chain ] && chain=10
    mkdir -p "$work/$scenario"
    gen "$work/$scenario/compose.yaml" $chain
    # Chains of 10 in the floor: service i depends on i-1 within its chain,
    # i.e. 10 levels of 5 (the generated chains are consecutive).
    for r in $(seq 1 "$runs"); do
        cd "$work/$scenario"
        T[$scenario,orch,cold]+="$(secs "$orch" -p b$scenario-o up -d) "
        T[$scenario,orch,warm]+="$(secs "$orch" -p b$scenario-o up -d) "
        T[$scenario,orch,down]+="$(secs "$orch" -p b$scenario-o down -t 0) "
        T[$scenario,ref,cold]+="$(secs "$ref" -p b$scenario-c up -d) "
        T[$scenario,ref,warm]+="$(secs "$ref" -p b$scenario-c up -d) "
        T[$scenario,ref,down]+="$(secs "$ref" -p b$scenario-c down -t 0) "
        T[$scenario,floor,cold]+="$("$floor" b$scenario-f 50 $chain "$image") "
        "$floor" --clean b$scenario-f
        cd - >/dev/null
    done
done
# Peak RSS of orch during a cold up of the flat project.
cd "$work/flat"
/usr/bin/time -f '%M' -o "$work/rss" "$orch" -p bflat-o up -d >/dev/null 2>&1
rss=$(tail -1 "$work/rss")
"$orch" -p bflat-o down -t 0 >/dev/null 2>&1
cd - >/dev/null

printf '\n%-34s %10s %10s %10s %8s %8s\n' "measurement (median of $runs, s)" orch compose floor "o/c" "o/floor"
for scenario in flat chain; do
    for m in cold warm down; do
        o=$(echo ${T[$scenario,orch,$m]} | tr ' ' '\n' | median)
        c=$(echo ${T[$scenario,ref,$m]} | tr ' ' '\n' | median)
        f=-; of=-
        if [ $m = cold ]; then f=$(echo ${T[$scenario,floor,cold]} | tr ' ' '\n' | median); of=$(echo "scale=2; $o / $f" | bc); fi
        label="$scenario up -d ($m)"; [ $m = down ] && label="$scenario down"
        printf "%-34s %10.3f %10.3f %10s %8.2f %8s\n" "$label" "$o" "$c" "$f" "$(echo "scale=3; $o / $c" | bc)" "$of"
    done
done
echo "orch peak RSS during cold up -d (flat, 50 services): $((rss / 1024)) MB ($rss kB)"
