"""When a request arrived: its deadline and the `time` its answer reports count from then.

`taskgate-api` stamps a request as its HTTP parser meets the first byte (`serving.HttpProtocol`),
so the stamp does not depend on how long the request then waited for the event loop behind others.
Under another ASGI server, the first middleware stamps it instead (`arrived`).
"""

import time

from starlette.types import Scope

#: The key in a request's scope state: `time.monotonic()` when the request arrived.
RECEIVED_AT = "received_at"


def arrived(scope: Scope) -> float:
    """The request's arrival, stamped now if the server has not."""
    stamp: float = scope.setdefault("state", {}).setdefault(RECEIVED_AT, time.monotonic())
    return stamp
