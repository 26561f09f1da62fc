"""taskgate ops: Flower, RabbitMQ topology, the native launcher and diagnostics."""

from taskgate_ops.version import __version__

__all__ = ["__version__"]
