"""Chaos testing: a recorded workload under injected faults, and checkers for its history.

- ``history``, ``model``: operations as recorded, and the register they act on;
- ``search``, ``checker``: linearizability per key, stale reads, lost writes;
- ``workload``, ``nemesis``, ``runner``, ``report``, ``leaks``: a run against a
  ``LocalCluster`` (:func:`ignite_router.chaos.runner.run_chaos`) and its report.
"""
