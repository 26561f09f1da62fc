"""The task types taskgate ships, registered through the `taskgate.tasks` entry point like any other."""

from taskgate_contracts.builtin.process import PROCESS
from taskgate_contracts.builtin.thumbnail import THUMBNAIL
from taskgate_contracts.builtin.webhook import WEBHOOK

#: What the `builtin` entry point of `taskgate.tasks` names.
SPECS = (PROCESS, THUMBNAIL, WEBHOOK)

__all__ = ["PROCESS", "SPECS", "THUMBNAIL", "WEBHOOK"]
