"""ignite-router against pyignite 0.6.1 on a local 3-node cluster (in its own process).

    .venv/bin/python benchmarks/bench_client.py [--quick] [--json] [--plot FILE.png]

The same as ``ignite-router bench``: the logic lives in ``ignite_router.bench``
(this folder is not installed), the cluster process in
``ignite_router.benchserver`` (``benchmarks/cluster_process.py`` runs it).
Rows: sync put+get (ops/s, client CPU per op, against the floor of a bare
socket round trip), AioClient with 1, 16 and 256 requests in flight, and
put_all + get_all of 100 keys; the server's ``forwarded`` count for each.
"""

from __future__ import annotations

from typing import Any

from ignite_router import bench
from ignite_router.commands.bench import main


def run(quick: bool) -> dict[str, Any]:
    """Every measurement: ``{"meta": {...}, "rows": [...]}`` (see ``ignite_router.bench``)."""
    return bench.run(quick)


if __name__ == "__main__":
    raise SystemExit(main(prog="bench_client.py"))
