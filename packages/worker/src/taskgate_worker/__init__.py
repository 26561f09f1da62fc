"""taskgate worker: the Celery app and the tasks it runs for the api."""

from taskgate_worker.version import __version__

__all__ = ["__version__"]
