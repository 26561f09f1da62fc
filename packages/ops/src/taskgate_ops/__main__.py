"""`python -m taskgate_ops`: the same as the `taskgate-ops` console script."""

from taskgate_ops.cli import main

if __name__ == "__main__":
    main()
