#!/bin/sh
# The sentinel beside each Redis: it watches the master the other sentinels name (or, on the first start
# of the set, pod 0), by host name, and is itself reached by host name; its configuration file is its own
# to rewrite, in an emptyDir.
set -eu

master=""
for peer in 0 1 2; do
    answer=$(redis-cli --no-auth-warning -a "$REDIS_PASSWORD" -h "${STATEFULSET}-${peer}.${SERVICE}" \
        -p 26379 sentinel get-master-addr-by-name "$MASTER_NAME" 2>/dev/null | head -n 1) || true
    if [ -n "$answer" ]; then master="$answer"; break; fi
done
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
