#!/bin/sh
# The sentinel beside each Redis: it watches the master the other sentinels name (or, on the first start
# of the set, pod 0), by host name, and is itself reached by host name; its configuration file is its own
# to rewrite, in an emptyDir.
set -eu

. /scripts/master.sh
master="$(current_master)"
master="${master:-${STATEFULSET}-0.${SERVICE}}"

cat > /sentinel/sentinel.conf <<CONF
port 26379
dir /sentinel
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $(hostname).${SERVICE}
requirepass ${REDIS_PASSWORD}
sentinel monitor ${MASTER_NAME} ${master} 6379 2
sentinel auth-pass ${MASTER_NAME} ${REDIS_PASSWORD}
sentinel down-after-milliseconds ${MASTER_NAME} 5000
sentinel failover-timeout ${MASTER_NAME} 60000
sentinel parallel-syncs ${MASTER_NAME} 1
CONF
exec redis-sentinel /sentinel/sentinel.conf
