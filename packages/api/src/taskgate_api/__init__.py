"""taskgate api: the HTTP front door to the task queue."""

from taskgate_api.version import __version__

__all__ = ["__version__"]
