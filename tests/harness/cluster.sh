#!/usr/bin/env bash
# A real multi-node Docker Swarm test cluster on one machine: N dockerd,
# each in its own network namespace with its own address, data root and
# hostname (node1..nodeN), on a private bridge. Swarm tests run here, never
# on the machine's main engine. Facts behind each step: ../shared/testbed.md.
#
#   cluster.sh up NAME N [IMAGE...]   start N nodes, load IMAGEs into each;
#                                     prints "nodeI unix:///…/docker.sock IP"
#                                     With ORCH_CLUSTER_TLS=DIR (holding a
#                                     test CA's ca.pem and ca-key.pem), each
#                                     dockerd also listens on tcp://IP:2376
#                                     with --tlsverify, its certificate
#                                     signed by that CA for its address.
#                                     With ORCH_CLUSTER_PULL=1, swarm tasks
#                                     pull their image first (see below).
#   cluster.sh swarm NAME [M]         init on node1, join the others (the
#                                     first M nodes managers, default 1)
#   cluster.sh kill NAME I            SIGKILL node I's dockerd (node loss)
#   cluster.sh restart NAME I         stop node I's dockerd (TERM), start it
#                                     again on the same data (engine restart)
#   cluster.sh freeze|thaw NAME I     SIGSTOP / SIGCONT node I's dockerd (an
#                                     engine that stops answering)
#   cluster.sh sshd NAME I KEYS       run sshd in node I's namespace (port
#                                     22, root, the public keys in file
#                                     KEYS); a session runs `docker system
#                                     dial-stdio` on node I's engine, as a
#                                     remote docker host does for ssh://
#   cluster.sh down NAME              remove everything of cluster NAME
#   cluster.sh ls | down-all          list / remove every cluster
#
# NAME: up to 6 characters of [a-z0-9]; interface names derive from it.
set -euo pipefail

ROOT=/tmp/orch-cluster

die() { echo "cluster.sh: $*" >&2; exit 1; }

need_root() {
    [ "$(id -u)" = 0 ] || die "must run as root (it creates network namespaces and daemons)"
    for t in ip iptables nsenter unshare dockerd docker; do
        command -v "$t" >/dev/null || die "$t is missing (apt-get install -y iproute2 iptables util-linux docker.io)"
    done
}

check_name() {
    [[ "$1" =~ ^[a-z0-9]{1,6}$ ]] || die "cluster name must be 1-6 characters of [a-z0-9], not '$1'"
}

# 10.<a>.<b>.0/24 from the name's hash, skipping subnets the host uses.
subnet_for() {
    local name=$1 n a b
    n=$(printf '%s' "$name" | cksum | cut -d' ' -f1)
    for try in $(seq 0 50); do
        a=$(( 100 + (n / 256 + try) % 100 ))
        b=$(( (n + try * 7) % 256 ))
        if ! ip -4 route | grep -q "^10\.$a\.$b\."; then
            echo "10.$a.$b"
            return
        fi
    done
    die "no free 10.x.y.0/24 subnet"
}

node_ip() { echo "$(cat "$ROOT/$1/subnet").$((10 + $2))"; }

up() {
    local name=$1 count=$2; shift 2
    check_name "$name"
    [[ "$count" =~ ^[0-9]+$ ]] && [ "$count" -ge 1 ] && [ "$count" -le 9 ] || die "node count must be 1..9"
    [ ! -e "$ROOT/$name" ] || die "cluster $name exists (cluster.sh down $name)"
    mkdir -p "$ROOT/$name"
    local net br="ob$name"
    net=$(subnet_for "$name")
    echo "$net" > "$ROOT/$name/subnet"
    echo "$count" > "$ROOT/$name/count"
    # Tasks skip pulling (DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1: no public
    # registry is reachable) unless the cluster is for pull tests.
    [ "${ORCH_CLUSTER_PULL:-}" = 1 ] && echo 0 > "$ROOT/$name/offline" || echo 1 > "$ROOT/$name/offline"

    ip link add "$br" type bridge
    ip addr add "$net.1/24" dev "$br"
    ip link set "$br" up
    # The host's Docker sets FORWARD to DROP; let the nodes talk.
    iptables -I DOCKER-USER -i "$br" -o "$br" -j ACCEPT 2>/dev/null \
        || iptables -I FORWARD -i "$br" -o "$br" -j ACCEPT
    echo "$br" > "$ROOT/$name/bridge"

    local i
    for i in $(seq 1 "$count"); do
        start_node "$name" "$i" "$net"
    done
    for i in $(seq 1 "$count"); do
        wait_node "$name" "$i"
    done
    local img pids=()
    for img in "$@"; do
        for i in $(seq 1 "$count"); do
            ( docker save "$img" | docker -H "unix://$ROOT/$name/node$i/docker.sock" load >/dev/null ) &
            pids+=($!)
        done
    done
    for p in "${pids[@]}"; do wait "$p" || die "loading images failed"; done
    for i in $(seq 1 "$count"); do
        echo "node$i unix://$ROOT/$name/node$i/docker.sock $(node_ip "$name" "$i")"
    done
}

start_node() {
    local name=$1 i=$2 net=$3
    local ns="orch-$name-$i" veth="ov$name$i" dir="$ROOT/$name/node$i"
    mkdir -p "$dir/data" "$dir/exec"
    ip netns add "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    ip link set "$veth" master "ob$name" up
    ip -n "$ns" addr add "$net.$((10 + i))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" route add default via "$net.1"
    # No DNS route: answer "no such host" at once instead of timing out.
    echo "nameserver 127.0.0.1" > "$dir/resolv.conf"
    echo "node$i" > "$dir/hostname"
    # Not the host's /etc/docker/daemon.json (its data-root would clash).
    echo '{}' > "$dir/daemon.json"
    if [ -n "${ORCH_CLUSTER_TLS:-}" ]; then
        server_cert "$dir" "$net.$((10 + i))"
    fi
    launch_daemon "$name" "$i"
}

# A server certificate for ADDR signed by the test CA in $ORCH_CLUSTER_TLS,
# and the daemon.json that makes dockerd verify its clients with that CA.
server_cert() {
    local dir=$1 addr=$2 ca=$ORCH_CLUSTER_TLS
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$addr" \
        -keyout "$dir/server-key.pem" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$addr" > "$dir/server.ext"
    openssl x509 -req -days 2 -in "$dir/server.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca-key.pem" \
        -CAcreateserial -extfile "$dir/server.ext" -out "$dir/server-cert.pem" 2>/dev/null
    printf '{"tlsverify": true, "tlscacert": "%s", "tlscert": "%s", "tlskey": "%s"}\n' \
        "$ca/ca.pem" "$dir/server-cert.pem" "$dir/server-key.pem" > "$dir/daemon.json"
    echo "tcp://$addr:2376" > "$dir/tcp"
}

# Starts node I's dockerd in its namespace (first start and restarts).
launch_daemon() {
    local name=$1 i=$2 ns="orch-$1-$2" dir="$ROOT/$1/node$2"
    # Own mount and UTS namespaces: own hostname, resolv.conf; nsenter (not
    # `ip netns exec`, which remounts /sys and breaks dockerd's cgroups).
    # A registry on the cluster's bridge (the host's end, .1) speaks plain
    # HTTP to the nodes, as one on loopback does to the host's engine.
    nsenter --net="/run/netns/$ns" unshare --mount --uts --propagation private sh -c '
        hostname "$(cat "$1/hostname")"
        mount --bind "$1/resolv.conf" /etc/resolv.conf
        exec env DOCKER_SERVICE_PREFER_OFFLINE_IMAGE="$4" dockerd --config-file "$1/daemon.json" \
            --data-root "$1/data" --exec-root "$1/exec" --pidfile "$1/docker.pid" \
            -H "unix://$1/docker.sock" --containerd-namespace "orch-$2" \
            --containerd-plugins-namespace "orch-$2-plugins" \
            --bridge none --insecure-registry "$3.0/24" $(cat "$1/tcp" 2>/dev/null | sed "s/^/-H /")
    ' _ "$dir" "$name-$i" "$(cat "$ROOT/$name/subnet")" "$(cat "$ROOT/$name/offline")" \
        >> "$dir/dockerd.log" 2>&1 &
    echo $! > "$dir/launcher.pid"
}

# Stops node I's dockerd (TERM; KILL after 15 s) and starts it again.
restart_node() {
    local name=$1 i=$2 dir="$ROOT/$1/node$2" pid
    pid=$(cat "$dir/docker.pid" 2>/dev/null || true)
    if [ -n "$pid" ]; then
        kill -CONT "$pid" 2>/dev/null || true
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/docker.pid"
    launch_daemon "$name" "$i"
    wait_node "$name" "$i"
}

signal_node() {  # signal_node SIGNAL NAME I
    local pid
    pid=$(cat "$ROOT/$2/node$3/docker.pid") || die "node$3 of $2 has no dockerd"
    kill "-$1" "$pid"
}

wait_node() {
    local name=$1 i=$2 dir="$ROOT/$1/node$2"
    for _ in $(seq 1 150); do
        if docker -H "unix://$dir/docker.sock" info >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$(cat "$dir/launcher.pid")" 2>/dev/null || break
        sleep 0.2
    done
    tail -20 "$dir/dockerd.log" >&2
    die "node$i of $name did not start"
}

swarm() {
    local name=$1 managers=${2:-1} count i token mtoken addr
    count=$(cat "$ROOT/$name/count")
    addr="$(node_ip "$name" 1):2377"
    docker -H "unix://$ROOT/$name/node1/docker.sock" swarm init --advertise-addr "$(node_ip "$name" 1)" >/dev/null
    token=$(docker -H "unix://$ROOT/$name/node1/docker.sock" swarm join-token -q worker)
    mtoken=$(docker -H "unix://$ROOT/$name/node1/docker.sock" swarm join-token -q manager)
    for i in $(seq 2 "$count"); do
        [ "$i" -le "$managers" ] && t=$mtoken || t=$token
        docker -H "unix://$ROOT/$name/node$i/docker.sock" swarm join --token "$t" \
            --advertise-addr "$(node_ip "$name" "$i")" "$addr" >/dev/null
    done
}

kill_node() {
    local dir="$ROOT/$1/node$2"
    [ -f "$dir/docker.pid" ] && kill -9 "$(cat "$dir/docker.pid")" 2>/dev/null || true
}

sshd_node() {
    local name=$1 i=$2 keys=$3 dir="$ROOT/$1/node$2"
    [ -x /usr/sbin/sshd ] || die "sshd is missing (apt-get install -y openssh-server)"
    mkdir -p /run/sshd
    [ -f "$dir/ssh_host_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh_host_key"
    {
        echo "ListenAddress $(node_ip "$name" "$i"):22"
        echo "HostKey $dir/ssh_host_key"
        echo "PidFile $dir/sshd.pid"
        echo "AuthorizedKeysFile $keys"
        echo "PermitRootLogin prohibit-password"
        echo "PasswordAuthentication no"
        echo "KbdInteractiveAuthentication no"
        echo "UsePAM no"
        echo "StrictModes no"
        echo "ForceCommand env DOCKER_HOST=unix://$dir/docker.sock docker system dial-stdio"
    } > "$dir/sshd_config"
    nsenter --net="/run/netns/orch-$name-$i" /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" \
        || die "sshd on node$i failed: $(tail -3 "$dir/sshd.log")"
}

down() {
    local name=$1 dir="$ROOT/$1" i pid
    check_name "$name"
    [ -d "$dir" ] || return 0
    # Daemons first (TERM, then KILL), then what they left: containerd,
    # shims, and any process still inside a node's network namespace.
    # (A frozen daemon must be thawed to hear the TERM.)
    for pid in $(cat "$dir"/node*/docker.pid 2>/dev/null); do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 50); do
        local alive=0
        for pid in $(cat "$dir"/node*/docker.pid 2>/dev/null); do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for i in $(ls -d "$dir"/node* 2>/dev/null | sed 's/.*node//'); do
        local ns="orch-$name-$i"
        if [ -e "/run/netns/$ns" ]; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        fi
    done
    pkill -9 -f "$dir/" 2>/dev/null || true
    sleep 0.2
    # Mounts under the state dir, deepest first.
    awk -v d="$dir" '$2 ~ "^"d {print $2}' /proc/mounts | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    for i in $(ls -d "$dir"/node* 2>/dev/null | sed 's/.*node//'); do
        ip link del "ov$name$i" 2>/dev/null || true
        ip netns del "orch-$name-$i" 2>/dev/null || true
    done
    local br="ob$name"
    while iptables -D DOCKER-USER -i "$br" -o "$br" -j ACCEPT 2>/dev/null; do :; done
    while iptables -D FORWARD -i "$br" -o "$br" -j ACCEPT 2>/dev/null; do :; done
    ip link del "$br" 2>/dev/null || true
    rm -rf "$dir" 2>/dev/null || { sleep 1; rm -rf "$dir"; }
}

cmd=${1:-}
case "$cmd" in
    up) need_root; [ $# -ge 3 ] || die "usage: cluster.sh up NAME N [IMAGE...]"; shift; name=$1
        # A failed start leaves nothing behind.
        trap 'rc=$?; if [ $rc != 0 ]; then down "$name"; fi' EXIT
        up "$@" ;;
    swarm) need_root; swarm "$2" "${3:-1}" ;;
    kill) need_root; kill_node "$2" "$3" ;;
    restart) need_root; restart_node "$2" "$3" ;;
    freeze) need_root; signal_node STOP "$2" "$3" ;;
    thaw) need_root; signal_node CONT "$2" "$3" ;;
    sshd) need_root; sshd_node "$2" "$3" "$4" ;;
    down) need_root; down "$2" ;;
    ls) ls "$ROOT" 2>/dev/null || true ;;
    down-all) need_root; for c in $(ls "$ROOT" 2>/dev/null); do down "$c"; done ;;
    *) sed -n '2,19p' "$0"; exit 2 ;;
esac
