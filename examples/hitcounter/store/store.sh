#!/bin/sh
# A very small key-value store: one command per connection, counts kept in
# files on the /data volume. Commands: PING, GET key, INCR key.
read -r cmd key
key=$(printf '%s' "$key" | tr -cd 'a-zA-Z0-9_-')
case "$cmd" in
    PING) echo PONG ;;
    GET) cat "/data/$key" 2>/dev/null || echo 0 ;;
    INCR)
        # mkdir is atomic: concurrent visits must not lose a count.
        # (busybox-static has no flock.)
        while ! mkdir /data/.lock 2>/dev/null; do usleep 1000; done
        trap 'rmdir /data/.lock' EXIT
        n=$(cat "/data/$key" 2>/dev/null || echo 0)
        n=$((n + 1))
        echo "$n" > "/data/$key"
        echo "$n"
        ;;
    *) echo "ERR unknown command" ;;
esac
