#!/usr/bin/env bash
# orch watch vs a loop of Docker Compose v2.40.3's `up -d`, in one run. Not
# a test: it prints medians and ratios.
#
#   bench/watch.sh [EDITS]      (default 10 edits of each)
#
# A 20-service project (image orch-test/busybox) whose last service syncs
# a 10,000-file tree (so the watch covers it). Each edit changes one
# service's environment in compose.yaml; latency is from the write to the
# engine's `start` event of the new container (docker events, ns). For the
# reference, `docker compose up -d` runs right after the same write. The
# engine's floor is one container's create+start through the API. While
# orch watches, idle CPU (10 s) and RSS come from /proc. Containers stop
# at once on SIGTERM (sleep & wait), so a recreate measures the tools and
# the engine, not a shell finishing its sleep.
set -euo pipefail
cd "$(dirname "$0")/.."
edits=${1:-10}
cargo build --release --quiet --bin orch --example engine-floor
orch=$PWD/target/release/orch
floor=$PWD/target/release/examples/engine-floor
. bench/lib.sh
reference_compose
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
      "$ref" -p bwo down -t 0 >/dev/null 2>&1 || true; "$ref" -p bwr down -t 0 >/dev/null 2>&1 || true
      "$floor" --clean bwf >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

gen() {  # gen MODE
    echo "services:"
    for i in $(seq 1 20); do
        cat <<YAML
  s$i:
    image: $image
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    environment:
      MODE: "$([ "$i" = 1 ] && echo "$1" || echo fixed)"
YAML
    done
    cat <<YAML
    develop:
      watch:
        - path: ./tree
          action: sync
          target: /tree
YAML
}
mkdir -p "$work/tree"
for d in $(seq 1 100); do
    mkdir -p "$work/tree/d$d"
    for f in $(seq 1 100); do : > "$work/tree/d$d/f$f"; done
done
gen start > "$work/compose.yaml"

now_ns() { date +%s%N; }

# run_edits PROJECT TRIGGER → latencies (ms), one per line, in $work/PROJECT.lat
run_edits() {
    local project=$1 trigger=$2
    docker events --filter "label=com.docker.compose.project=$project" --filter event=start \
        --format '{{.TimeNano}}' > "$work/$project.events" &
    local ev=$!
    pids+=("$ev")
    sleep 0.5
    : > "$work/$project.lat"
    for i in $(seq 1 "$edits"); do
        local seen t0
        seen=$(wc -l < "$work/$project.events")
        t0=$(now_ns)
        gen "edit$i-$project" > "$work/compose.yaml"
        [ "$trigger" = ref ] && (cd "$work" && "$ref" -p "$project" up -d >/dev/null 2>&1)
        until [ "$(wc -l < "$work/$project.events")" -gt "$seen" ]; do sleep 0.01; done
        echo $(( ($(tail -1 "$work/$project.events") - t0) / 1000000 )) >> "$work/$project.lat"
        sleep 0.7
    done
    kill "$ev" 2>/dev/null || true
}

# orch watch
(cd "$work" && exec "$orch" -p bwo watch --quiet) &
opid=$!
pids+=("$opid")
until [ "$(docker ps -q --filter label=com.docker.compose.project=bwo | wc -l)" = 20 ]; do sleep 0.1; done
sleep 1
run_edits bwo orch
sleep 2
ticks() { awk '{print $14 + $15}' "/proc/$opid/stat"; }
t1=$(ticks); sleep 10; t2=$(ticks)
hz=$(getconf CLK_TCK)
idle_cpu=$(awk -v a="$t1" -v b="$t2" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz / 10 * 100 }')
rss=$(awk '/VmRSS/ {print $2}' "/proc/$opid/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$opid/status")
kill -INT "$opid"; wait "$opid" 2>/dev/null || true
"$ref" -p bwo down -t 0 >/dev/null 2>&1

# the reference: up -d after each write
gen start > "$work/compose.yaml"
(cd "$work" && "$ref" -p bwr up -d >/dev/null 2>&1)
run_edits bwr ref
"$ref" -p bwr down -t 0 >/dev/null 2>&1

# the engine's floor: one container's create+start
: > "$work/floor"
for i in $(seq 1 "$edits"); do
    "$floor" --one "bwf-$i" "$image" | awk '{ printf "%d\n", $1 * 1000 }' >> "$work/floor"
    "$floor" --clean "bwf-$i" >/dev/null
done

o=$(median < "$work/bwo.lat"); r=$(median < "$work/bwr.lat"); f=$(median < "$work/floor")
echo "edit → new container started (median of $edits, ms): orch watch $o, compose up -d loop $r, engine create+start $f"
echo "orch - floor: $(awk -v a="$o" -v b="$f" 'BEGIN { print a - b }') ms (target ≤ 300); orch / compose: $(awk -v a="$o" -v b="$r" 'BEGIN { printf "%.2f", a / b }') (target ≤ 0.5)"
echo "orch watching 10,000 files: idle CPU ${idle_cpu}% over 10 s, RSS $((rss / 1024)) MB (peak $((hwm / 1024)) MB)"
echo "orch latencies: $(tr '\n' ' ' < "$work/bwo.lat")"
echo "compose latencies: $(tr '\n' ' ' < "$work/bwr.lat")"
