"""The one thing the prefork supervisor and the metrics share, kept free of imports so the supervisor
stays a few MB: where prometheus_client's multiprocess mode keeps each api process's values."""

METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
