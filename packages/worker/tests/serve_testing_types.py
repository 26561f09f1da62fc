"""`python -m tests.serve_testing_types`: a worker hosting the tests' own task types, configured by the
environment like `taskgate-worker`, for the tests that run one as its own process."""

from taskgate_contracts import Registry
from taskgate_worker.config import load_settings
from taskgate_worker.factory import create_app
from taskgate_worker.hosting import plan

from .testing_types import FLAKY, flaky

if __name__ == "__main__":
    settings = load_settings()
    hosting = plan(settings, registry=Registry.of([FLAKY]), handlers={FLAKY.name: flaky})
    argv = ["worker", "--concurrency=1", "--loglevel=info", f"--hostname={hosting.node_name()}"]
    create_app(settings, hosting).worker_main(argv)
