"""The taskgate benchmark: the real api and worker under load, against a raw-Celery baseline.

Run it with `nox -s bench` (or `python -m bench` where the packages and bench/requirements.txt are
installed); docs/performance.md describes the method and the targets.
"""
