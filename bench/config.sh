#!/usr/bin/env bash
# `config` on a generated 500-service compose file: orch vs Docker Compose
# v2.40.3 (its Go binary), alternating, in one run. Prints medians, ratio.
#   bench/config.sh [RUNS]     (default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
cargo build --release --quiet --bin orch
orch=$PWD/target/release/orch
# The wrapper script on PATH hides exit codes and adds a Python start-up:
# time the Go binary itself.
ref=$(python3 -c "import compose, os; print(os.path.join(os.path.dirname(compose.__file__), 'docker-compose'))")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
    echo "x-common: &common"
    echo "  restart: unless-stopped"
    echo "  labels: [\"tier=bench\"]"
    echo "services:"
    for i in $(seq 0 499); do
        cat <<YAML
  s$i:
    <<: *common
    image: "busybox:\${TAG:-latest}"
    command: sh -c "echo service $i && sleep 3600"
    environment:
      - INDEX=$i
      - MODE=\${MODE:-bench}
    ports: ["$((10000 + i)):80"]
    volumes: ["data$((i % 10)):/data", "./cfg:/cfg:ro"]
    healthcheck: {test: "true", interval: 30s, retries: 3}
YAML
        [ "$i" -gt 0 ] && echo "    depends_on: [s$((i - 1))]"
    done
    echo "volumes:"
    for v in $(seq 0 9); do echo "  data$v: {}"; done
} > "$work/compose.yaml"
cd "$work"
"$orch" config --format json > orch.json
"$ref" config --format json > ref.json
python3 -c 'import json,sys; a=json.load(open("orch.json")); b=json.load(open("ref.json")); sys.exit(0 if a==b else "the two documents differ")'
t() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000 )); }
o=(); r=()
for _ in $(seq 1 "$runs"); do
    o+=("$(t "$orch" config --format json)")
    r+=("$(t "$ref" config --format json)")
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mo=$(med "${o[@]}"); mr=$(med "${r[@]}")
printf 'config, 500 services (median of %d): orch %.1f ms, docker compose %.1f ms, ratio %.3f (identical JSON output)\n' \
    "$runs" "$(echo "$mo / 1000" | bc -l)" "$(echo "$mr / 1000" | bc -l)" "$(echo "$mo / $mr" | bc -l)"
