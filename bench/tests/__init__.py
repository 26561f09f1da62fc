"""The harness's own checks, offline: `nox -s bench` runs them before it measures anything."""
