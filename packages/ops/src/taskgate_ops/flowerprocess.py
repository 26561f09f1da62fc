"""`python -m taskgate_ops.flowerprocess flower …`: Celery's command line (`celery flower …`), with the
log lines in LOG_FORMAT. `taskgate-ops flower` runs Flower through it."""

import sys

from celery.bin.celery import main as celery_main

from taskgate_ops import logs
from taskgate_ops.config import load_settings


def main() -> None:
    # `taskgate-ops flower` checked the settings before it started this process.
    logs.configure(load_settings().chosen_log_format())
    sys.argv[0] = "celery"
    sys.exit(celery_main())


if __name__ == "__main__":
    main()
