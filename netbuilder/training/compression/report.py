"""The compression table as a person reads it (Markdown) and as a program reads it (JSON): one row per network,
the float network first, each figure beside the float network's."""

from __future__ import annotations

from pathlib import Path

from netbuilder.training.compression.measure import LATENCY_BATCHES, Measurement

# the figure that judges a network: the first of these that the evaluation gave
HEADLINE_METRICS = ("accuracy", "r2", "mae")


def headline_metric(rows: list[Measurement]) -> str:
    present = rows[0].metrics if rows else {}
    return next((name for name in HEADLINE_METRICS if name in present), "loss")


def size_words(count: int) -> str:
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def metric_words(name: str, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if name == "accuracy" or name.endswith("_accuracy") else f"{value:.4g}"


def report_rows(rows: list[Measurement]) -> tuple[list[str], list[list[str]]]:
    """The table's header and cells: name, file, its size and its tensors' size, parameters (not zero), latency
    at each batch, the headline metric (with its change from the float network), agreement with the float
    network, note."""
    metric = headline_metric(rows)
    header = [
        "network",
        "file",
        "size",
        "tensors",
        "parameters (not zero)",
        *(f"latency b{b} (ms)" for b in LATENCY_BATCHES),
        metric,
        "agrees with float",
        "note",
    ]
    base = rows[0].metrics.get(metric) if rows else None
    cells = []
    for row in rows:
        value = row.metrics.get(metric)
        change = ""
        if value is not None and base is not None and row is not rows[0]:
            delta = value - base
            change = f" ({delta * 100:+.1f} pt)" if metric == "accuracy" else f" ({delta:+.3g})"
        cells.append(
            [
                row.name,
                row.file.name if row.file else "—",
                size_words(row.file_bytes) if row.file else "—",
                size_words(row.tensor_bytes) if row.file else "—",
                f"{row.parameters:,} ({row.nonzero:,})",
                *(f"{row.latency_ms[b]:.2f}" if b in row.latency_ms else "—" for b in LATENCY_BATCHES),
                metric_words(metric, value) + change,
                "—" if row.agreement is None else f"{row.agreement:.1%}",
                row.note,
            ]
        )
    return header, cells


def report_markdown(rows: list[Measurement], project_name: str, weights: Path) -> str:
    header, cells = report_rows(rows)
    lines = [
        f"# {project_name}: compression",
        "",
        f"From the weights {weights}. Each network is measured on the validation split; latency is the median of "
        "repeated forward passes on this machine's CPU.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in cells]
    return "\n".join(lines) + "\n"


def report_json(rows: list[Measurement], project_name: str, weights: Path) -> dict:
    return {
        "project": project_name,
        "weights": str(weights),
        "rows": [
            {
                "name": row.name,
                "file": str(row.file) if row.file else None,
                "file_bytes": row.file_bytes,
                "tensor_bytes": row.tensor_bytes,
                "parameters": row.parameters,
                "nonzero": row.nonzero,
                "latency_ms": {str(b): ms for b, ms in row.latency_ms.items()},
                "metrics": row.metrics,
                "agreement": row.agreement,
                "note": row.note,
            }
            for row in rows
        ],
    }
