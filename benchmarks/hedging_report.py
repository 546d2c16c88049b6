"""The hedging benchmark's targets, Markdown tables and latency-over-time plot."""

from __future__ import annotations

import statistics
from typing import Any

__all__ = [
    "BOTH_HEALTHY",
    "HEDGED",
    "PHASES",
    "PYIGNITE",
    "UNHEDGED",
    "markdown",
    "plot",
    "targets",
]

UNHEDGED, HEDGED, PYIGNITE = "ignite-router", "ignite-router, hedged", "pyignite 0.6.1"
PHASES = ("healthy", "slow node", "healthy again")  # the timeline's thirds
BOTH_HEALTHY = "healthy, both thirds"
_MET = {True: "met", False: "**not met**"}
_COLOURS = {UNHEDGED: "#4a5568", HEDGED: "#2b6cb0", PYIGNITE: "#dd6b20"}


def _target(
    target_id: str, text: str, measured: str, value: float, op: str, bound: float
) -> dict[str, Any]:
    met = value <= bound if op == "<=" else value >= bound
    return {
        "id": target_id,
        "target": text,
        "measured": measured,
        "value": value,
        "op": op,
        "bound": bound,
        "met": met,
    }


def _windows(row: dict[str, Any], width: float, slow: bool) -> list[dict[str, Any]]:
    """A client's timeline windows wholly inside the slow third (``slow``) or wholly outside."""

    def inside(start: float) -> bool:
        return row["slow_from"] <= start and start + width <= row["slow_until"]

    def outside(start: float) -> bool:
        return start + width <= row["slow_from"] or start >= row["slow_until"]

    wanted = inside if slow else outside
    return [window for window in row["windows"] if wanted(window["start"])]


def _healthy_hedges(result: dict[str, Any]) -> tuple[float, int]:
    """The share of the hedged client's reads on the healthy cluster that were hedged, and
    how many reads that is: the table's healthy phase, the throughput rounds and the
    timeline's healthy thirds together."""
    table_row = result["table"]["healthy"][HEDGED]
    speed = result["throughput"]
    line = result["timeline"]["clients"][HEDGED]["phases"][BOTH_HEALTHY]
    rounds = len(speed["rounds"][HEDGED]) * speed["round_reads"]
    parts = [
        (table_row["hedged_share"], table_row["reads"]),
        (speed["hedged_share"], rounds),
        (line["hedged_share"], line["reads"]),
    ]
    reads = sum(count for _, count in parts)
    return sum(share * count for share, count in parts) / reads, reads


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the figures it was judged on."""
    healthy, slow = result["table"]["healthy"], result["table"]["slow node"]
    timeline = result["timeline"]
    hedged_line = timeline["clients"][HEDGED]
    thirds = hedged_line["phases"]
    speed = result["throughput"]
    share, reads = _healthy_hedges(result)
    p99_ratio = slow[HEDGED]["p99_ms"] / healthy[HEDGED]["p99_ms"]
    line_ratio = thirds["slow node"]["p99_ms"] / thirds[BOTH_HEALTHY]["p99_ms"]
    healthy_p50s = [w["p50_ms"] for w in _windows(hedged_line, timeline["window"], slow=False)]
    slow_p50 = statistics.median(
        w["p50_ms"] for w in _windows(hedged_line, timeline["window"], slow=True)
    )
    return [
        _target(
            "hedged_p99",
            "slow node: hedged p99 ≤ 2x the healthy p99 (table)",
            f"{slow[HEDGED]['p99_ms']:.2f} ms vs {healthy[HEDGED]['p99_ms']:.2f} ms: "
            f"{p99_ratio:.1f}x (unhedged healthy p99 {healthy[UNHEDGED]['p99_ms']:.2f} ms: "
            f"{slow[HEDGED]['p99_ms'] / healthy[UNHEDGED]['p99_ms']:.1f}x)",
            p99_ratio,
            "<=",
            2.0,
        ),
        _target(
            "hedged_p99_timeline",
            "slow node: hedged p99 ≤ 2x the healthy p99 (timeline: the slow third against "
            "both healthy thirds)",
            f"{thirds['slow node']['p99_ms']:.2f} ms vs {thirds[BOTH_HEALTHY]['p99_ms']:.2f} ms: "
            f"{line_ratio:.1f}x",
            line_ratio,
            "<=",
            2.0,
        ),
        _target(
            "unhedged_p99",
            "slow node: ignite-router p99 without hedging ≥ 200 ms (table)",
            f"{slow[UNHEDGED]['p99_ms']:.1f} ms",
            slow[UNHEDGED]["p99_ms"],
            ">=",
            200.0,
        ),
        _target(
            "pyignite_p99",
            "slow node: pyignite p99 ≥ 200 ms (table)",
            f"{slow[PYIGNITE]['p99_ms']:.1f} ms",
            slow[PYIGNITE]["p99_ms"],
            ">=",
            200.0,
        ),
        _target(
            "hedged_p50",
            "slow node: hedged p50 unchanged within noise (timeline: the median window p50 of "
            "the slow third ≤ the highest window p50 of the healthy thirds)",
            f"{slow_p50:.3f} ms vs {min(healthy_p50s):.3f} to {max(healthy_p50s):.3f} ms "
            f"(table: {slow[HEDGED]['p50_ms']:.3f} ms vs {healthy[HEDGED]['p50_ms']:.3f} ms)",
            slow_p50,
            "<=",
            max(healthy_p50s),
        ),
        _target(
            "healthy_hedges",
            "healthy cluster: hedges ≤ 2% of reads (every healthy read of the hedged client)",
            f"{share:.2%} of {reads:,} (table {healthy[HEDGED]['hedged_share']:.2%}, "
            f"throughput rounds {speed['hedged_share']:.2%}, timeline's healthy thirds "
            f"{thirds[BOTH_HEALTHY]['hedged_share']:.2%})",
            share,
            "<=",
            0.02,
        ),
        _target(
            "healthy_throughput",
            "healthy cluster: hedged throughput within 5% of unhedged (median round)",
            f"{speed['hedged_reads_per_s']:,.0f} vs {speed['unhedged_reads_per_s']:,.0f} "
            f"reads/s: {speed['ratio']:.3f}x",
            speed["ratio"],
            ">=",
            0.95,
        ),
    ]


def _ms(row: dict[str, Any]) -> str:
    return f"{row['p50_ms']:.2f} / {row['p99_ms']:.2f}"


def _share(row: dict[str, Any]) -> str:
    return f"{row['hedged_share']:.1%}" if "hedged_share" in row else ""


def _table(result: dict[str, Any]) -> list[str]:
    lines = ["| phase | client | p50 ms | p99 ms | reads hedged |", "|---|---|---:|---:|---:|"]
    for phase, rows in result["table"].items():
        for name, row in rows.items():
            lines.append(
                f"| {phase} | {name} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {_share(row)} |"
            )
    return lines


def _throughput(result: dict[str, Any]) -> list[str]:
    speed = result["throughput"]
    rounds = len(speed["rounds"][UNHEDGED])
    return [
        f"| healthy cluster, median of {rounds} alternating rounds | ignite-router reads/s "
        "| hedged reads/s | hedged / unhedged | reads hedged |",
        "|---|---:|---:|---:|---:|",
        f"| one thread, back-to-back reads | {speed['unhedged_reads_per_s']:,.0f} "
        f"| {speed['hedged_reads_per_s']:,.0f} | {speed['ratio']:.3f}x "
        f"| {speed['hedged_share']:.2%} |",
    ]


def _timeline(result: dict[str, Any]) -> list[str]:
    timeline = result["timeline"]
    lines = [
        f"| timeline ({timeline['seconds']:g} s per client) | healthy p50 / p99 ms "
        "| slow node p50 / p99 ms | healthy again p50 / p99 ms | reads (by third) "
        f"| reads per {timeline['window']:g} s window, slow third | reads hedged (by third) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in timeline["clients"].items():
        thirds = row["phases"]
        slow = [w["reads"] for w in _windows(row, timeline["window"], slow=True)]
        per_window = f"{min(slow):,} to {max(slow):,}" if slow else "—"
        counts = " / ".join(f"{thirds[p]['reads']:,}" for p in PHASES)
        shares = " / ".join(_share(thirds[p]) for p in PHASES) if _share(thirds["healthy"]) else ""
        lines.append(
            f"| {name} | {_ms(thirds['healthy'])} | {_ms(thirds['slow node'])} "
            f"| {_ms(thirds['healthy again'])} | {counts} | {per_window} | {shares} |"
        )
    return lines


def _targets(result: dict[str, Any]) -> list[str]:
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    for row in result["targets"]:
        lines.append(f"| {row['target']} | {row['measured']} | {_MET[row['met']]} |")
    return lines


def markdown(result: dict[str, Any]) -> str:
    """The four tables in Markdown, with a line about the run above them."""
    meta = result["meta"]
    load = meta["load_average_at_start"]
    load_text = f", load average {load[0]:.1f} at the start" if load else ""
    lines = [
        f"{meta['date']}: Python {meta['python']}, pyignite {meta['pyignite']}, "
        f"{meta['cpus']} CPUs{load_text}, {meta['seconds']:g} s, {meta['nodes']}-node "
        f"LocalCluster (backups={meta['backups']}), node {meta['slow_node']} answering "
        f"{meta['slow_ms']:g} ms late when slow",
        "",
        *_table(result),
        "",
        *_throughput(result),
        "",
        *_timeline(result),
        "",
        *_targets(result),
    ]
    return "\n".join(lines)


def plot(result: dict[str, Any], path: str) -> None:
    """p50 and p99 per window over time, one line pair per client, log scale (matplotlib)."""
    import matplotlib  # type: ignore[import-not-found,unused-ignore]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found,unused-ignore]

    timeline = result["timeline"]
    width = timeline["window"]
    clients = timeline["clients"]
    figure, ax = plt.subplots(figsize=(10, 5.2))
    ax.axvspan(
        statistics.mean(row["slow_from"] for row in clients.values()),
        statistics.mean(row["slow_until"] for row in clients.values()),
        color="#fed7d7",
        alpha=0.6,
        label=f"node {result['meta']['slow_node']} answers {result['meta']['slow_ms']:g} ms late",
    )
    for name, row in clients.items():
        middles = [w["start"] + width / 2 for w in row["windows"]]
        colour = _COLOURS.get(name)
        ax.plot(
            middles,
            [w["p99_ms"] for w in row["windows"]],
            "-o",
            color=colour,
            markersize=3,
            label=f"{name} p99",
        )
        ax.plot(
            middles, [w["p50_ms"] for w in row["windows"]], "--", color=colour, label=f"{name} p50"
        )
    ax.set_yscale("log")
    ax.set_xlim(0, timeline["seconds"])
    ax.set_xlabel("seconds since the client's first read")
    ax.set_ylabel("read latency, ms (log scale)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    meta = result["meta"]
    ax.set_title(
        f"Single-key reads, one thread, p50 and p99 per {width:g} s window — "
        f"{meta['nodes']}-node LocalCluster, {meta['date'][:10]}",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
