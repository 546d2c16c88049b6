"""The results as Markdown tables and a bar chart."""

from __future__ import annotations

from typing import Any

__all__ = ["markdown", "plot"]

_MET = {None: "—", True: "yes", False: "**no**"}


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit.startswith(("µs/", "ns/")):
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


def _throughput_target(row: dict[str, Any]) -> str:
    target = row["target"]
    if target is None:
        return "—"
    sign = "≥" if target["op"] == ">=" else "≤"
    text = f"{sign} {target['ratio']:g}x"
    if row["forwarded"] is not None:
        text += ", forwarded 0"
    return text


def _throughput(result: dict[str, Any]) -> list[str]:
    lines = [
        "| measurement | unit | ignite-router | pyignite 0.6.1 | ours / pyignite | target "
        "| met | forwarded (ours / pyignite) | client CPU µs/op (ours / pyignite) |",
        "|---|---|---:|---:|---:|---|---|---:|---:|",
    ]
    for row in result["rows"]:
        forwarded = (
            "—" if row["forwarded"] is None else f"{row['forwarded']} / {row['pyignite_forwarded']}"
        )
        cpu = row.get("client_cpu_us_per_op")
        cpu_text = "—" if cpu is None else f"{cpu['ours']:,.1f} / {cpu['pyignite']:,.1f}"
        lines.append(
            f"| {row['name']} | {row['unit']} | {_number(row['ours'], row['unit'])} "
            f"| {_number(row['pyignite'], row['unit'])} | {_ratio(row['ratio'])} "
            f"| {_throughput_target(row)} | {_MET[row['met']]} | {forwarded} | {cpu_text} |"
        )
    return lines


def _cpu_target(row: dict[str, Any]) -> str:
    target = row["target"]
    sign = "≤" if target["op"] == "<=" else "≥"
    if target["against"] == "absolute":
        return f"{sign} {target['bound']:g} {row['unit']}"
    return f"ours / {target['against']} {sign} {target['bound']:g}x"


def _per_side(values: dict[str, Any] | None, unit: str | None = None) -> str:
    """``raw / ours / pyignite`` (the sides present); numbers in ``unit``, else counts."""
    if not values:
        return "—"
    cells = []
    for side in ("raw", "ours", "pyignite"):
        if side in values:
            value = values[side]
            cells.append(str(value) if unit is None else _number(value, unit))
    return " / ".join(cells)


def _client_cpu(result: dict[str, Any]) -> list[str]:
    lines = [
        "| client CPU per operation | unit | raw minimal | ignite-router | pyignite 0.6.1 "
        "| ours / raw | ours / pyignite | target | met | forwarded (raw / ours / pyignite) "
        "| server CPU µs/op (raw / ours / pyignite) |",
        "|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    for row in result["cpu_rows"]:
        unit = row["unit"]
        lines.append(
            f"| {row['name']} | {unit} | {_number(row['raw'], unit)} "
            f"| {_number(row['ours'], unit)} | {_number(row['pyignite'], unit)} "
            f"| {_ratio(row['ours_vs_raw'])} | {_ratio(row['ours_vs_pyignite'])} "
            f"| {_cpu_target(row)} | {_MET[row['met']]} | {_per_side(row['forwarded'])} "
            f"| {_per_side(row['server_cpu_us_per_op'], 'µs/op')} |"
        )
    return lines


def markdown(result: dict[str, Any]) -> str:
    """Both tables in Markdown, with a line about the machine above them."""
    meta = result["meta"]
    lines = [
        f"{meta['date']}: Python {meta['python']}, pyignite {meta['pyignite']}, "
        f"{meta['cpus']} CPUs ({meta['cpu_model']}), {meta['nodes']}-node LocalCluster in its "
        f"own process, {meta['keys']} int keys, 100-char str values, median of "
        f"{meta['sizes']['rounds']} alternating rounds, string hashes "
        f"{'C accelerator' if meta['accelerated'] else 'pure Python'}",
        "",
        *_throughput(result),
        "",
        *_client_cpu(result),
    ]
    return "\n".join(lines)


def plot(result: dict[str, Any], path: str) -> None:
    """A bar chart, ours vs pyignite, one panel per throughput row (needs matplotlib)."""
    import matplotlib  # type: ignore[import-not-found,unused-ignore]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found,unused-ignore]

    panels = result["rows"]
    columns = 3
    lines = (len(panels) + columns - 1) // columns
    figure, axes = plt.subplots(lines, columns, figsize=(4.2 * columns, 3.6 * lines), squeeze=False)
    colours = {"ignite-router": "#2b6cb0", "pyignite 0.6.1": "#a0aec0"}
    for ax, row in zip(axes.flat, panels, strict=False):
        bars = {"ignite-router": row["ours"], "pyignite 0.6.1": row["pyignite"]}
        names = list(bars)
        drawn = ax.bar(names, [bars[n] for n in names], color=[colours[n] for n in names])
        ax.bar_label(drawn, labels=[_number(bars[n], row["unit"]) for n in names], fontsize=8)
        ax.set_title(f"{row['name']} — {_ratio(row['ratio'])}", fontsize=9)
        ax.set_ylabel(row["unit"] + (" (lower is better)" if row["unit"] == "µs/op" else ""))
        ax.tick_params(axis="x", labelsize=8)
        ax.margins(y=0.15)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    meta = result["meta"]
    figure.suptitle(
        f"ignite-router vs pyignite {meta['pyignite']} — {meta['nodes']}-node LocalCluster, "
        f"{meta['cpus']} CPUs, {meta['date'][:10]}",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
