#!/usr/bin/env bash
# Swarm rolling update: `orch service rollout` in steps with no pauses, and
# in one step, vs `docker service update --image`, each on its own service
# with the same update_config (6 replicas, parallelism 2, start-first,
# delay 0), side by side in one run, alternating, on a 3-node test swarm
# (tests/harness/cluster.sh). Not a test: it prints medians and ratios.
#
#   bench/rollout_swarm.sh [RUNS] [STEPS]   (default 5 runs; steps 2,4,100%:
#                                            orch parks at Swarm's own batch
#                                            boundaries, so the ratio is orch's
#                                            overhead; ORCH=path skips the
#                                            release build)
#
# One measurement: from command start until every task the service wants
# runs the new image as the same poller sees it for all (docker service ps
# every 50 ms), and for orch also until it exited (it waits for the tasks
# itself). docker gets --no-resolve-image (there is no
# registry; orch never queries one) and -d (the poller is the wait; its
# own wait adds a 5 s stability check orch does not make).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
steps=${2:-2,4,100%}
[ "$(id -u)" = 0 ] || { echo "needs root (the test cluster uses network namespaces)"; exit 1; }
if [ -z "${ORCH:-}" ]; then cargo build --release --quiet --bin orch; fi
orch=${ORCH:-$PWD/target/release/orch}
. bench/lib.sh
bench_swarm brs
while read -r _ h _; do
    for t in roll:1 roll:2; do docker -H "$h" tag "$image" $t; done
done < "$work/nodes"
host=$(awk '$1=="node1"{print $2}' "$work/nodes")
export DOCKER_HOST=$host

now() { date +%s.%N; }

# on IMAGE SERVICE: the 6 tasks it wants all run IMAGE.
on() {
    [ "$(docker service ps "$2" --filter desired-state=running --format '{{.Image}} {{.CurrentState}}' \
        | awk -v i="$1" '$1==i && $2=="Running"' | wc -l)" = 6 ]
}

for s in o p d; do
    docker service create -d -q --name $s --replicas 6 --endpoint-mode dnsrr --no-resolve-image \
        --update-parallelism 2 --update-delay 0s --update-order start-first \
        roll:1 sh -c "trap 'exit 0' TERM; while true; do sleep 1; done" >/dev/null
done
for _ in $(seq 1 600); do on roll:1 o && on roll:1 p && on roll:1 d && break; sleep 0.2; done

measure() {  # measure TOOL IMAGE → seconds
    local tool=$1 img=$2 start svc
    rm -f "$work/rc"
    start=$(now)
    case $tool in
        docker) svc=d; docker service update -d -q --no-resolve-image --image "$img" d >/dev/null; echo 0 > "$work/rc" ;;
        orch) svc=o; ( "$orch" service rollout o --image "$img" --steps "$steps" >/dev/null; echo $? > "$work/rc" ) & ;;
        plain) svc=p; ( "$orch" service rollout p --image "$img" >/dev/null; echo $? > "$work/rc" ) & ;;
    esac
    until [ -f "$work/rc" ] && on "$img" $svc; do
        awk -v a="$(now)" -v b="$start" 'BEGIN { exit !(a - b > 300) }' && { echo "$tool: not all on $img after 300 s" >&2; exit 1; }
        sleep 0.05
    done
    awk -v a="$(now)" -v b="$start" 'BEGIN { printf "%.3f\n", a - b }'
    [ "$(cat "$work/rc")" = 0 ] || { echo "$tool failed" >&2; exit 1; }
}

: > "$work/orch"; : > "$work/plain"; : > "$work/docker"
for r in $(seq 1 "$runs"); do
    img=roll:$(( r % 2 + 1 ))
    for tool in orch plain docker; do
        t=$(measure "$tool" "$img")
        echo "run $r $tool: ${t}s" >&2
        echo "$t" >> "$work/$tool"
    done
done
o=$(median < "$work/orch"); p=$(median < "$work/plain"); d=$(median < "$work/docker")
echo "6 replicas, parallelism 2, start-first, until all run the new image: median of $runs"
printf '%-46s %9s %8s\n' "method" "seconds" "/docker"
printf '%-46s %8.2fs %7.2fx\n' "orch service rollout --steps $steps" "$o" "$(awk -v a="$o" -v b="$d" 'BEGIN { print a / b }')"
printf '%-46s %8.2fs %7.2fx\n' "orch service rollout (one step)" "$p" "$(awk -v a="$p" -v b="$d" 'BEGIN { print a / b }')"
printf '%-46s %8.2fs %7.2fx\n' "docker service update -d --image" "$d" 1
