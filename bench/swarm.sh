#!/usr/bin/env bash
# Issue 19's swarm speed table: orch vs the docker CLI, side by side in one
# run, alternating (which tool goes first alternates too), on one 3-node
# test swarm (tests/harness/cluster.sh). Not a test: it prints medians and
# ratios.
#
#   bench/swarm.sh [RUNS] [ORCH]   (default 5 runs of each stack deploy, and
#                                   max(7, 3 × RUNS) of each ls/ps; ORCH: the
#                                   orch binary, else a release build)
#
# stack deploy: from command start until every service of a fresh 10-service
# × 2-replica stack runs 2/2, as the same poller sees it for both tools (the
# engine's service list with status, on node1's socket, every 50 ms: curl,
# not the docker CLI, so the poller costs the shared CPU little). docker
# gets --resolve-image never (there is no registry; orch never queries
# one). Each run's stack is removed afterwards, waiting until its
# containers and networks are gone.
#
# service ls / service ps: one command's wall time, output to /dev/null,
# with a 50-service × 1-replica stack present (deployed once, converged).
# Before timing, both tools must print the same rows: the same IDs with -q,
# the same number of table lines (and `service ls`'s table, which has no
# clock in it, is compared whole; a difference is shown, not fatal).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
orch=${2:-}
[ "$(id -u)" = 0 ] || { echo "needs root (the test cluster uses network namespaces)"; exit 1; }
if [ -z "$orch" ]; then cargo build --release --quiet --bin orch; orch=target/release/orch; fi
orch=$(realpath "$orch")
. bench/lib.sh
quick=$(( 3 * runs > 7 ? 3 * runs : 7 ))
bench_swarm bsw
host=$(awk '$1=="node1"{print $2}' "$work/nodes")
sock=${host#unix://}
export DOCKER_HOST=$host
export LC_ALL=C

# stack_file N REPLICAS: a stack of N sleeping services, on stdout.
stack_file() {
    local i
    echo "services:"
    for i in $(seq 0 $(($1 - 1))); do
        cat <<YAML
  s$i:
    image: $image
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    deploy:
      replicas: $2
      endpoint_mode: dnsrr
YAML
    done
}
stack_file 10 2 > "$work/deploy.yml"
stack_file 50 1 > "$work/fifty.yml"

# converged STACK N R: the stack's N services each run R of R tasks.
converged() {
    local f='{"label":["com.docker.stack.namespace='$1'"]}'
    [ "$(curl -sf --unix-socket "$sock" -G "http://engine/v1.41/services" \
        --data-urlencode status=true --data-urlencode "filters=$f" \
        | jq --argjson r "$3" '[.[] | select(.ServiceStatus.RunningTasks == $r and .ServiceStatus.DesiredTasks == $r)] | length')" = "$2" ]
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

# tool orch|docker ARGS…: the tool's command line.
tool() {
    local t=$1; shift
    if [ "$t" = orch ]; then "$orch" "$@"; else docker "$@"; fi
}

# seconds START: the time since START ($EPOCHREALTIME), to 4 decimals (the
# one-shot commands take ~10 ms: whole milliseconds moved their ratios by
# ±0.04).
seconds() { awk -v a="$EPOCHREALTIME" -v b="$1" 'BEGIN { printf "%.4f\n", a - b }'; }

deploy_once() {  # deploy_once TOOL STACK: appends its seconds to $work/deploy.TOOL
    local t=$1 stack=$2 start
    start=$EPOCHREALTIME
    if [ "$t" = orch ]; then
        "$orch" stack deploy -q -c "$work/deploy.yml" "$stack" >/dev/null
    else
        docker stack deploy --resolve-image never -c "$work/deploy.yml" "$stack" >/dev/null 2>"$work/stderr" \
            || { cat "$work/stderr" >&2; exit 1; }
    fi
    until converged "$stack" 10 2; do sleep 0.05; done
    seconds "$start" | tee -a "$work/deploy.$t" | sed "s/^/  $stack $t: /;s/$/ s/" >&2
}

# order R: the two tools, orch first in odd runs, docker first in even ones.
order() { if [ $(($1 % 2)) = 1 ]; then echo orch docker; else echo docker orch; fi; }

echo "stack deploy, 10 services x 2 replicas, $runs runs" >&2
for r in $(seq 1 "$runs"); do
    for t in $(order "$r"); do
        deploy_once "$t" "${t:0:1}$r"
        cleanup "${t:0:1}$r"
    done
done

# The 50 services of the ls/ps measurements.
docker stack deploy --resolve-image never -c "$work/fifty.yml" f >/dev/null 2>&1
for _ in $(seq 1 1200); do converged f 50 1 && break; sleep 0.1; done
converged f 50 1 || { echo "the 50-service stack did not converge" >&2; exit 1; }
# Both tools' one-shot commands are timed on a settled swarm: the ten
# deploys and removals above, and the 50 containers just started, leave the
# three engines busy for a while (the one-minute load was 11 at the end of
# such a run). On two cores that noise alone took `service ls` from 0.48 ×
# docker (the same loop on a quiet swarm) to 0.57.
sleep 15
several=$(for i in $(seq 0 9); do printf 'f_s%d ' "$i"; done)
# label|command (words split on purpose: service names have no spaces)
cases=("service ls|service ls" "service ps, 1 service|service ps f_s0" "service ps, 10 services|service ps $several")

# Same rows from both tools, or no comparison.
for c in "${cases[@]}"; do
    cmd=${c#*|}
    # shellcheck disable=SC2086
    { tool orch $cmd -q | sort > "$work/q.orch"; tool docker $cmd -q | sort > "$work/q.docker"; }
    # Rows by their IDs' first 12 characters (what a table shows).
    cut -c1-12 "$work/q.orch" > "$work/ids.orch"; cut -c1-12 "$work/q.docker" > "$work/ids.docker"
    cmp -s "$work/ids.orch" "$work/ids.docker" \
        || { echo "$cmd -q: orch and docker list different IDs:" >&2; diff "$work/ids.orch" "$work/ids.docker" >&2; exit 1; }
    cmp -s "$work/q.orch" "$work/q.docker" \
        || echo "note: $cmd -q: same IDs, printed differently (orch: $(head -1 "$work/q.orch"), docker: $(head -1 "$work/q.docker"))" >&2
    # shellcheck disable=SC2086
    { tool orch $cmd > "$work/table.orch"; tool docker $cmd > "$work/table.docker"; }
    lo=$(wc -l < "$work/table.orch"); ld=$(wc -l < "$work/table.docker")
    [ "$lo" = "$ld" ] || { echo "$cmd: orch prints $lo lines, docker $ld" >&2; exit 1; }
    echo "$cmd: same $(wc -l < "$work/ids.orch") IDs, $lo lines each" >&2
    if [ "$cmd" = "service ls" ] && ! cmp -s "$work/table.orch" "$work/table.docker"; then
        echo "note: service ls tables differ (orch <, docker >):" >&2
        diff "$work/table.orch" "$work/table.docker" >&2 || true
    fi
done

for i in "${!cases[@]}"; do
    cmd=${cases[$i]#*|}
    : > "$work/q$i.orch"; : > "$work/q$i.docker"
    for r in $(seq 1 "$quick"); do
        for t in $(order "$r"); do
            start=$EPOCHREALTIME
            # shellcheck disable=SC2086
            tool "$t" $cmd >/dev/null
            seconds "$start" >> "$work/q$i.$t"
        done
    done
done

# The engine alone: the one call `service ls` makes (both tools), with
# curl on the node's socket, as often as the commands ran.
: > "$work/floor.ls"
for _ in $(seq 1 "$quick"); do
    curl -sf -o /dev/null -w '%{time_total}\n' --unix-socket "$sock" \
        "http://engine/v1.41/services?status=true" >> "$work/floor.ls"
done

row() {  # row LABEL RUNS ORCH_FILE DOCKER_FILE TARGET
    local o d ratio
    o=$(median < "$3"); d=$(median < "$4")
    ratio=$(awk -v a="$o" -v b="$d" 'BEGIN { printf "%.2f", a / b }')
    printf '| %s | %s | %.4f | %.4f | %s | ≤ %s × docker | %s |\n' "$1" "$2" "$o" "$d" "$ratio" "$5" \
        "$(awk -v r="$ratio" -v t="$5" 'BEGIN { print (r <= t ? "yes" : "**no**") }')"
}
echo
echo "| measurement (median, s) | runs | orch | docker | ratio | target | met |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
row "stack deploy, 10 services × 2 replicas, until converged" "$runs" "$work/deploy.orch" "$work/deploy.docker" 1.0
for i in "${!cases[@]}"; do
    row "${cases[$i]%%|*} (50 services)" "$quick" "$work/q$i.orch" "$work/q$i.docker" 0.5
done
f=$(median < "$work/floor.ls"); d=$(median < "$work/q0.docker")
printf '| the engine alone: service ls'"'"'s call (curl) | %s | %.4f | %.4f | %.2f | floor | |\n' "$quick" "$f" "$d" \
    "$(awk -v a="$f" -v b="$d" 'BEGIN { printf "%.2f", a / b }')"
echo
echo "load: $(uptime | sed 's/.*load average/load average/')"
