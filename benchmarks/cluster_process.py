"""A LocalCluster in its own process for the client benchmark; see ignite_router.benchserver.

    .venv/bin/python benchmarks/cluster_process.py --nodes 3
    .venv/bin/python -m benchmarks.cluster_process --nodes 3

Prints ``{"endpoints": [...], "pid": N}`` as one line, then answers ``stats``,
``reset`` and ``quit`` on stdin (one JSON line each).
"""

from ignite_router.benchserver import main

if __name__ == "__main__":
    raise SystemExit(main())
