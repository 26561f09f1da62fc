"""The handlers of the task types taskgate ships, one module each, declared as `taskgate.handlers` entry
points in this package's pyproject."""
