#!/bin/sh
# Prints the address of the master the sentinels of the set name, or nothing when none answers (the first
# start of the set). Sourced by redis.sh and sentinel.sh.
current_master() {
    for peer in 0 1 2; do
        answer=$(redis-cli --no-auth-warning -a "$REDIS_PASSWORD" -h "${STATEFULSET}-${peer}.${SERVICE}" \
            -p 26379 sentinel get-master-addr-by-name "$MASTER_NAME" 2>/dev/null | head -n 1) || true
        if [ -n "$answer" ]; then
            echo "$answer"
            return
        fi
    done
}
