#!/usr/bin/env bash
# The autoscaler's cost and the stats primitive's speed (issue 16).
#   bench/autoscale.sh [SECONDS] [ORCH]
# 1. One Container.stats() sample beside `docker stats --no-stream` on the
#    same idle container, 10 times (seconds: the primitive inside orch, the
#    whole orch process, the whole docker process).
# 2. `orch autoscale --interval 5` watching 10 compose services (cpus: 0.1,
#    x-orch-autoscale on cpu) for SECONDS (default 300): its CPU time as a
#    share of one core, and its RSS.
# Not a test: run it, read the figures. Uses the engine DOCKER_HOST names;
# removes what it made.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-300}
orch=${2:-target/release/orch}
[ -x "$orch" ] || cargo build --release --quiet
orch=$(realpath "$orch")
img=orch-test/busybox:latest
docker image inspect "$img" >/dev/null 2>&1 || "$orch" run tests/fixtures/test-image.rhai >/dev/null
tag="orchb-as-$$"
dir=$(mktemp -d)
cleanup() {
    "$orch" -p "$tag" down -t 0 >/dev/null 2>&1 || true
    docker rm -f "$tag-one" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT

docker run -d --name "$tag-one" "$img" sleep 3600 >/dev/null
printf 'let c = container::get("%s");\nlet t = timestamp(); c.stats(); print(t.elapsed);\n' "$tag-one" > "$dir/one.rhai"
echo "stats: primitive / orch process / docker stats --no-stream (seconds)"
for _ in $(seq 1 10); do
    t0=$(date +%s.%N); p=$("$orch" run "$dir/one.rhai"); t1=$(date +%s.%N)
    docker stats --no-stream "$tag-one" >/dev/null; t2=$(date +%s.%N)
    printf '%.3f %.3f %.3f\n' "$p" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
done

{ echo "services:"; for i in $(seq 1 10); do
    printf '  s%d:\n    image: %s\n    command: sleep 3600\n    cpus: 0.1\n    x-orch-autoscale: { max: 3, metrics: { cpu: 50 } }\n' "$i" "$img"
done; } > "$dir/compose.yaml"
(cd "$dir" && "$orch" -p "$tag" up -d >/dev/null 2>&1)
(cd "$dir" && exec "$orch" -p "$tag" autoscale --interval 5 > "$dir/decisions.log" 2>&1) &
pid=$!
sleep 2
tck=$(getconf CLK_TCK)
c0=$(awk '{print $14+$15}' "/proc/$pid/stat"); s0=$(date +%s.%N)
sleep "$secs"
c1=$(awk '{print $14+$15}' "/proc/$pid/stat"); s1=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status"); hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
kill -INT "$pid"; wait "$pid" || true
printf 'autoscale, 10 services, 5 s interval, %.0f s: CPU %.2f %% of one core; RSS %d kB (peak %d kB); %d decision lines\n' \
    "$(echo "$s1 - $s0" | bc)" "$(echo "($c1 - $c0) / $tck / ($s1 - $s0) * 100" | bc -l)" "$rss" "$hwm" \
    "$(grep -c ': cpu' "$dir/decisions.log")"
