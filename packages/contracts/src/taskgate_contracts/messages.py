"""What every task message carries beside its arguments.

The api and the worker are released on their own, so a queue can hold messages written by an api on a
newer contract than the worker that reads them. Each message names the contract version it was written
with; a worker refuses (to the dead-letter queue) a message of a newer major version than its own, and
reads any older one, since a minor version only adds.
"""

from taskgate_contracts.version import __version__

#: The AMQP message header that holds the contracts version the sender was built with.
CONTRACT_VERSION_HEADER = "taskgate-contract"


def message_headers() -> dict[str, str]:
    """The headers a sender adds to every task message."""
    return {CONTRACT_VERSION_HEADER: __version__}


def major_version(version: str) -> int:
    """The major part of a version such as `1.4.0` or `2.0.0rc1`; ValueError when it is not a version."""
    head = version.strip().split(".", 1)[0]
    if not (head.isascii() and head.isdigit()):
        raise ValueError(f"{version!r} is not a version")
    return int(head)


#: A task queue's dead-letter exchange and queue share this suffix (ops declares them, the api reads and
#: replays what they hold).
DEAD_LETTER_SUFFIX = ".dead-letter"


def dead_letter_queue(queue: str) -> str:
    """The queue (and exchange) receiving what `queue` dead-letters."""
    return queue + DEAD_LETTER_SUFFIX
