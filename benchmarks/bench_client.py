"""ignite-router against pyignite 0.6.1 on a local 3-node cluster (in its own process).

    .venv/bin/python benchmarks/bench_client.py [--quick] [--json] [--plot FILE.png]

The same as ``ignite-router bench``: the measurements live in
:mod:`benchmarks.client` (throughput, and client CPU per operation against a
minimal raw-socket client), the cluster process in
``benchmarks/cluster_process.py``.
"""

from __future__ import annotations

from ignite_router.commands.bench import main

if __name__ == "__main__":
    raise SystemExit(main(prog="bench_client.py"))
