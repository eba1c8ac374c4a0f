#!/usr/bin/env bash
# orch stack deploy vs docker stack deploy, side by side in one run,
# alternating, on a 3-node test swarm (tests/harness/cluster.sh). Not a
# test: it prints medians and the ratio.
#
#   bench/stack.sh [RUNS]      (default 5 runs of each)
#
# One measurement: from command start until every task of a 10-service ×
# 3-replica stack runs, as seen by the same poller for both tools (docker
# service ls every 50 ms). docker gets --resolve-image never (there is no
# registry; orch never queries one). Each run deploys a fresh stack name
# and removes it afterwards, waiting until its containers are gone.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
[ "$(id -u)" = 0 ] || { echo "needs root (the test cluster uses network namespaces)"; exit 1; }
cargo build --release --quiet --bin orch
orch=$PWD/target/release/orch
. bench/lib.sh
name=bst$$
name=${name:0:6}
work=$(mktemp -d)
trap 'tests/harness/cluster.sh down "$name" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
tests/harness/cluster.sh up "$name" 3 "$image" > "$work/nodes"
tests/harness/cluster.sh swarm "$name"
host=$(awk '$1=="node1"{print $2}' "$work/nodes")
export DOCKER_HOST=$host

{
    echo "services:"
    for i in $(seq 1 10); do
        cat <<YAML
  s$i:
    image: $image
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
YAML
    done
} > "$work/compose.yml"

now() { date +%s.%N; }

# all_running STACK: 10 services, each 3/3.
all_running() {
    [ "$(docker service ls --filter "label=com.docker.stack.namespace=$1" --format '{{.Replicas}}' | grep -c '^3/3')" = 10 ]
}

cleanup() {  # cleanup STACK
    docker stack rm "$1" >/dev/null 2>&1 || true
    for _ in $(seq 1 300); do
        local left=0
        while read -r _ h _; do
            [ -n "$(docker -H "$h" ps -q --filter "label=com.docker.stack.namespace=$1")" ] && left=1
        done < "$work/nodes"
        [ -z "$(docker network ls -q --filter "label=com.docker.stack.namespace=$1")" ] || left=1
        [ $left = 0 ] && return
        sleep 0.2
    done
}

measure() {  # measure TOOL STACK → seconds
    local tool=$1 stack=$2 start
    start=$(now)
    if [ "$tool" = orch ]; then
        "$orch" stack deploy -q -c "$work/compose.yml" "$stack" >/dev/null
    else
        docker stack deploy --resolve-image never -c "$work/compose.yml" "$stack" >/dev/null
    fi
    until all_running "$stack"; do sleep 0.05; done
    awk -v a="$(now)" -v b="$start" 'BEGIN { printf "%.3f\n", a - b }' 
}


: > "$work/orch"; : > "$work/docker"
for r in $(seq 1 "$runs"); do
    for tool in orch docker; do
        stack=${tool:0:1}$r
        t=$(measure "$tool" "$stack")
        echo "run $r $tool: ${t}s" >&2
        echo "$t" >> "$work/$tool"
        cleanup "$stack"
    done
done
o=$(median < "$work/orch"); d=$(median < "$work/docker")
printf '%-44s %10s %10s %8s\n' "10 services x 3 replicas, until all running" "orch" "docker" "ratio"
printf '%-44s %9.2fs %9.2fs %7.2fx\n' "median of $runs" "$o" "$d" "$(awk -v a="$o" -v b="$d" 'BEGIN { print a / b }')"
