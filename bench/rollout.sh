#!/usr/bin/env bash
# One-host rolling update: `orch rollout` vs the docker-rollout method by
# hand at the same parallelism (scale up one replica beside the old ones
# with `docker compose up -d --no-recreate --scale`, wait until it is
# healthy, stop and remove one old replica; five times). 5 replicas,
# start-first, parallelism 1, under load (a client container asking the
# service by name, four loops, `timeout 2 wget`, one retry). Not a test: it
# prints medians, the ratio and both tools' failed requests.
#
#   bench/rollout.sh [RUNS]      (default 3; ORCH=path skips the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
if [ -z "${ORCH:-}" ]; then cargo build --release --quiet --bin orch; fi
orch=${ORCH:-$PWD/target/release/orch}
. bench/lib.sh
reference_compose
work=$(mktemp -d)
p=orchbench-rollout
cleanup() {
    for m in orch hand; do
        docker rm -f $p-$m-client >/dev/null 2>&1 || true
        (cd "$work" && "$ref" -p $p-$m down -t 0 >/dev/null 2>&1) || true
    done
    docker rmi $p:v1 $p:v2 >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

for v in v1 v2; do
    mkdir -p "$work/img-$v/www"
    echo $v > "$work/img-$v/www/index.html"
    printf 'FROM %s\nCOPY www /www\nCMD ["sh", "-c", "trap '"'"'exit 0'"'"' TERM; httpd -f -p 80 -h /www & wait"]\n' "$image" > "$work/img-$v/Dockerfile"
    docker build -q -t $p:$v "$work/img-$v" >/dev/null 2>&1
done
cat > "$work/compose.yaml" <<EOF
services:
  web:
    image: $p:\${TAG:-v1}
    deploy:
      replicas: 5
      update_config:
        parallelism: 1
        order: start-first
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1/"]
      interval: 500ms
      retries: 2
EOF
cd "$work"

load_start() {  # load_start PROJECT
    docker run -d --name $1-client --network $1_default "$image" sh -c 'for k in 1 2 3 4; do ( ok=0; retry=0; fail=0;
        while [ ! -f /stop ]; do
          if timeout 2 wget -qO- http://web/ >/dev/null 2>&1; then ok=$((ok+1));
          else retry=$((retry+1));
            if timeout 2 wget -qO- http://web/ >/dev/null 2>&1; then ok=$((ok+1)); else fail=$((fail+1)); fi;
          fi;
          echo "$ok $retry $fail" > /stats$k; sleep 0.05;
        done; touch /done$k ) & done; sleep 3600' >/dev/null
    sleep 1
}
load_stop() {  # load_stop PROJECT → "ok retries failed"
    docker exec $1-client touch /stop
    until docker exec $1-client sh -c '[ -f /done1 ] && [ -f /done2 ] && [ -f /done3 ] && [ -f /done4 ]'; do sleep 0.1; done
    docker exec $1-client sh -c 'cat /stats1 /stats2 /stats3 /stats4' | awk '{o+=$1; r+=$2; f+=$3} END {print o, r, f}'
    docker rm -f $1-client >/dev/null
}

fresh() {  # fresh PROJECT: 5 healthy v1 replicas
    "$ref" -p $1 down -t 0 >/dev/null 2>&1 || true
    TAG=v1 "$ref" -p $1 up -d --wait >/dev/null 2>&1
}

hand() {  # the docker-rollout method, one replica at a time
    local old new
    old=$(docker ps -q --filter label=com.docker.compose.project=$p-hand)
    for o in $old; do
        TAG=v2 "$ref" -p $p-hand up -d --no-deps --no-recreate --scale web=6 web >/dev/null 2>&1
        new=$(docker ps -lq --filter label=com.docker.compose.project=$p-hand)
        until [ "$(docker inspect -f '{{.State.Health.Status}}' "$new")" = healthy ]; do sleep 0.1; done
        docker stop "$o" >/dev/null
        docker rm "$o" >/dev/null
    done
}

secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }

T_orch=""; T_hand=""; F_orch=""; F_hand=""
for r in $(seq 1 "$runs"); do
    fresh $p-orch; load_start $p-orch
    T_orch+="$(TAG=v2 secs "$orch" -p $p-orch rollout web) "
    F_orch+="$(load_stop $p-orch | tr ' ' '/'), "
    fresh $p-hand; load_start $p-hand
    T_hand+="$(secs hand) "
    F_hand+="$(load_stop $p-hand | tr ' ' '/'), "
done
mo=$(echo $T_orch | tr ' ' '\n' | median)
mh=$(echo $T_hand | tr ' ' '\n' | median)
echo "rolling 5 replicas, start-first, parallelism 1, $runs runs (median seconds; requests ok/retried/failed per run)"
printf '%-34s %8s   %s\n' "method" "seconds" "requests"
printf '%-34s %8.2f   %s\n' "orch rollout" "$mo" "${F_orch%, }"
printf '%-34s %8.2f   %s\n' "docker-rollout method (compose)" "$mh" "${F_hand%, }"
printf 'orch / by hand: %.2fx\n' "$(echo "$mo / $mh" | bc -l)"
