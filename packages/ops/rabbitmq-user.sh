#!/bin/sh
# Creates the application user on a RabbitMQ node that boots from definitions.json: a node that imports
# definitions seeds no default user, and the committed definitions hold no password. Safe to run again:
# an existing user gets its password, tag and permissions set anew.
#
# Environment: RABBITMQ_NODE (e.g. rabbit@rabbitmq), RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS,
# RABBITMQ_VHOST. Like the services, the password may instead be the file $SECRETS_DIR/RABBITMQ_DEFAULT_PASS
# (SECRETS_DIR: /run/secrets, where compose's `secrets:` puts it). rabbitmqctl reaches the node with the
# Erlang cookie in $HOME/.erlang.cookie.
set -eu

secret="${SECRETS_DIR:-/run/secrets}/RABBITMQ_DEFAULT_PASS"
if [ -z "${RABBITMQ_DEFAULT_PASS:-}" ] && [ -r "$secret" ]; then
    RABBITMQ_DEFAULT_PASS=$(cat "$secret")
fi

: "${RABBITMQ_NODE:?set RABBITMQ_NODE, e.g. rabbit@rabbitmq}"
: "${RABBITMQ_DEFAULT_USER:?set RABBITMQ_DEFAULT_USER}"
: "${RABBITMQ_DEFAULT_PASS:?set RABBITMQ_DEFAULT_PASS, or write it to $secret}"
: "${RABBITMQ_VHOST:?set RABBITMQ_VHOST}"

ctl() {
    rabbitmqctl --node "$RABBITMQ_NODE" --quiet "$@"
}

ctl await_startup
if ctl list_users --silent | cut -f1 | grep -qxF "$RABBITMQ_DEFAULT_USER"; then
    ctl change_password "$RABBITMQ_DEFAULT_USER" "$RABBITMQ_DEFAULT_PASS"
else
    ctl add_user "$RABBITMQ_DEFAULT_USER" "$RABBITMQ_DEFAULT_PASS"
fi
# `management` lets the user sign in to the management UI, and Flower's Broker tab list the queues.
ctl set_user_tags "$RABBITMQ_DEFAULT_USER" management
ctl set_permissions --vhost "$RABBITMQ_VHOST" "$RABBITMQ_DEFAULT_USER" '.*' '.*' '.*'
echo "RabbitMQ user $RABBITMQ_DEFAULT_USER is ready on vhost $RABBITMQ_VHOST"
