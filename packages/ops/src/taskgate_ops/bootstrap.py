"""Apply the topology to a running broker through the management API, changing only what differs."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from taskgate_ops.management import ManagementApi, ManagementError, segment
from taskgate_ops.topology import Binding, Body, Topology

#: The application user may declare, publish to and consume from anything in its vhost.
_FULL_PERMISSIONS: Body = {"configure": ".*", "write": ".*", "read": ".*"}


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Change:
    kind: str
    name: str
    outcome: Outcome


def bootstrap(api: ManagementApi, topology: Topology) -> list[Change]:
    """Make the broker match `topology` for the user `api` connects as; say what each item needed."""
    vhost = segment(topology.vhost)
    changes = [
        _ensure(api, "vhost", topology.vhost, f"/vhosts/{vhost}", {}),
        _ensure(api, "permissions", api.user, f"/permissions/{vhost}/{segment(api.user)}", _FULL_PERMISSIONS),
    ]
    for exchange in topology.exchanges:
        path = f"/exchanges/{vhost}/{segment(exchange.name)}"
        changes.append(_ensure(api, "exchange", exchange.name, path, exchange.body(), mutable=False))
    for queue in topology.queues:
        path = f"/queues/{vhost}/{segment(queue.name)}"
        changes.append(_ensure(api, "queue", queue.name, path, queue.body(), mutable=False))
    changes += [_ensure_binding(api, vhost, binding) for binding in topology.bindings]
    for policy in topology.policies:
        changes.append(
            _ensure(api, "policy", policy.name, f"/policies/{vhost}/{segment(policy.name)}", policy.body())
        )
    return changes


def _ensure(api: ManagementApi, kind: str, name: str, path: str, body: Body, mutable: bool = True) -> Change:
    current = api.get(path)
    if current is None:
        api.put(path, body)
        return Change(kind, name, Outcome.CREATED)
    differences = _differences(current, body)
    if not differences:
        return Change(kind, name, Outcome.UNCHANGED)
    if not mutable:
        # RabbitMQ cannot change a queue's or an exchange's properties in place.
        raise ManagementError(
            f"{kind} {name!r} already exists with other properties ({differences}); "
            f"delete it (its messages go with it) and run bootstrap again"
        )
    api.put(path, body)
    return Change(kind, name, Outcome.UPDATED)


def _ensure_binding(api: ManagementApi, vhost: str, binding: Binding) -> Change:
    path = f"/bindings/{vhost}/e/{segment(binding.source)}/q/{segment(binding.destination)}"
    name = f"{binding.source} -> {binding.destination}"
    existing: list[dict[str, Any]] = api.get(path) or []
    if any(not _differences(current, binding.body()) for current in existing):
        return Change("binding", name, Outcome.UNCHANGED)
    api.post(path, binding.body())
    return Change("binding", name, Outcome.CREATED)


def _differences(current: dict[str, Any], wanted: Body) -> str:
    return ", ".join(
        f"{key}: {current.get(key)!r} instead of {value!r}"
        for key, value in wanted.items()
        if current.get(key) != value
    )
