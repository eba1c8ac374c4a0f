#!/usr/bin/env bash
# orch and Docker Compose through the same ssh:// context (issue 18): a
# one-node harness engine behind sshd (tests/harness/cluster.sh), a key
# made here, `ps` and a no-op `up -d` of 20 services, alternating, RUNS
# each. Both tools run the system `ssh`: a wrapper first on PATH gives it
# the key and skips host-key prompts, for both alike. Not a test: prints
# medians and the orch/compose ratio.
#
#   bench/ssh.sh [RUNS] [ORCH]     (default 10, target/release/orch)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runs=${1:-10}
orch=${2:-target/release/orch}
[ -x "$orch" ] || cargo build --release --quiet
orch=$(realpath "$orch")
. bench/lib.sh
reference_compose
name="bs$((RANDOM % 9000 + 1000))"
work=$(mktemp -d)
export DOCKER_CONFIG="$work/docker"
cleanup() {
    "$orch" --context bench -p "$name" down -t 0 >/dev/null 2>&1 || true
    "$root/tests/harness/cluster.sh" down "$name" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

ip=$(tests/harness/cluster.sh up "$name" 1 "$image" | awk '{print $3}')
ssh-keygen -q -t ed25519 -N '' -f "$work/key"
cp "$work/key.pub" "$work/authorized_keys"
tests/harness/cluster.sh sshd "$name" 1 "$work/authorized_keys"
mkdir -p "$work/bin"
printf '#!/bin/sh\nexec /usr/bin/ssh -i %s -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$@"\n' \
    "$work/key" > "$work/bin/ssh"
chmod +x "$work/bin/ssh"
export PATH="$work/bin:$PATH"
docker context create bench --docker "host=ssh://root@$ip" >/dev/null

mkdir "$work/p"
sleeping_services 20 >"$work/p/compose.yaml"
cd "$work/p"
"$orch" --context bench -p "$name" up -d >/dev/null

secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || echo "failed: $*" >&2; e=$(date +%s.%N); echo "$e - $s" | bc; }
declare -A T
for _ in $(seq 1 "$runs"); do
    T[orch,ps]+="$(secs "$orch" --context bench -p "$name" ps) "
    T[compose,ps]+="$(DOCKER_CONTEXT=bench secs "$ref" -p "$name" ps) "
    T[orch,up]+="$(secs "$orch" --context bench -p "$name" up -d) "
    T[compose,up]+="$(DOCKER_CONTEXT=bench secs "$ref" -p "$name" up -d) "
done
printf '%-34s %8s %8s %6s\n' "median of $runs (s), ssh context" orch compose ratio
for m in ps up; do
    o=$(tr ' ' '\n' <<<"${T[orch,$m]}" | grep . | median)
    c=$(tr ' ' '\n' <<<"${T[compose,$m]}" | grep . | median)
    label=$([ "$m" = ps ] && echo "ps (20 services)" || echo "no-op up -d (20 services)")
    printf '%-34s %8.3f %8.3f %6.2f\n' "$label" "$o" "$c" "$(echo "$o / $c" | bc -l)"
done
