#!/bin/sh
# One Redis of the StatefulSet: a replica of the master the sentinels name; with no sentinel answering yet
# (the first start of the set), pod 0 is the master and the others replicate it.
set -eu

self="$(hostname).${SERVICE}"
. /scripts/master.sh
master="$(current_master)"
if [ -z "$master" ] && [ "$(hostname)" != "${STATEFULSET}-0" ]; then
    master="${STATEFULSET}-0.${SERVICE}"
fi

set -- --port 6379 --dir /data --appendonly yes --appendfsync everysec --save "" \
    --requirepass "$REDIS_PASSWORD" --masterauth "$REDIS_PASSWORD" \
    --replica-announce-ip "$self"
if [ -n "$master" ] && [ "$master" != "$self" ]; then
    set -- "$@" --replicaof "$master" 6379
fi
exec redis-server "$@"
