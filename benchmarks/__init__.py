"""The benchmarks: run from a source checkout, never installed (see docs/benchmarks.md).

``ignite-router bench`` imports :mod:`benchmarks.client` from the checkout it was
installed from; the ``bench_*.py`` scripts run on their own.
"""
