#!/usr/bin/env bash
# Two orch binaries side by side (a change's before and after), alternating
# in one run on the same machine: cold `up -d`, no-op `up -d` and `down` of
# 50 services, and `config` of 500. Not a test: prints medians and the
# after/before ratio of each.
#
#   bench/before_after.sh BEFORE_BIN AFTER_BIN [RUNS]     (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
before=$(realpath "$1") after=$(realpath "$2") runs=${3:-10}
orch=$after
. bench/lib.sh
work=$(mktemp -d)
trap '"$after" -p bba-before down -t 0 >/dev/null 2>&1; "$after" -p bba-after down -t 0 >/dev/null 2>&1; rm -rf "$work"' EXIT

mkdir -p "$work/up" "$work/config"
sleeping_services 50 >"$work/up/compose.yaml"
{
    echo "services:"
    for i in $(seq 0 499); do
        printf '  s%d:\n    image: "busybox:${TAG:-latest}"\n    environment: [INDEX=%d]\n    ports: ["%d:80"]\n    volumes: ["data%d:/data"]\n' "$i" "$i" $((10000 + i)) $((i % 10))
    done
    echo "volumes:"
    for i in $(seq 0 9); do echo "  data$i: {}"; done
} >"$work/config/compose.yaml"

secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }

declare -A T
for r in $(seq 1 "$runs"); do
    for which in before after; do
        bin=${!which}
        cd "$work/up"
        T[$which,cold]+="$(secs "$bin" -p "bba-$which" up -d) "
        T[$which,warm]+="$(secs "$bin" -p "bba-$which" up -d) "
        T[$which,down]+="$(secs "$bin" -p "bba-$which" down -t 0) "
        cd "$work/config"
        T[$which,config]+="$(secs "$bin" config) "
    done
done
cd "$work"
printf '%-28s %10s %10s %8s\n' "median of $runs (s)" before after ratio
for m in cold warm down config; do
    b=$(tr ' ' '\n' <<<"${T[before,$m]}" | grep . | median)
    a=$(tr ' ' '\n' <<<"${T[after,$m]}" | grep . | median)
    label=$m; [ "$m" = config ] && label="config (500 services)" || label="$m up/down (50 services)"
    [ "$m" = down ] && label="down (50 services)"
    [ "$m" = cold ] && label="cold up -d (50 services)"
    [ "$m" = warm ] && label="no-op up -d (50 services)"
    printf '%-28s %10.3f %10.3f %8.2f\n' "$label" "$b" "$a" "$(echo "$a / $b" | bc -l)"
done
