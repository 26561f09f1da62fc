"""The scenarios of the benchmark, one module per kind of load."""
