"""``report.html``: the whole evaluation on one self-contained page.

Everything is inside the file: the pictures are ``data:`` URIs, the style is inline, and there
is no script, so the page opens offline, can be mailed or archived, and never fetches anything.
It is drawn from what the report folder holds (metrics.json's numbers, predictions.parquet for
the per-task table, the PNG files), so ``arcdata report`` rebuilds it without the model.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import polars as pl

HTML_FILE = "report.html"

# (file, heading) in page order; missing files are skipped.
PICTURES = (
    ("calibration.png", "Reliability of sigmoid(q_halt), per example"),
    ("pixel_accuracy.png", "Per-pixel accuracy against halting confidence"),
    ("calibration_voted.png", "Reliability after voting, per task"),
    ("segments.png", "Segments per example under each halting rule"),
    ("voters.png", "pass@2 against the number of versions that vote"),
    ("reasoning_steps.png", "Reasoning steps of the traced examples"),
    ("latents.png", "Latent states of the traced examples"),
)

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1a1a1a;background:#fff}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:2px 8px;
text-align:left;font-variant-numeric:tabular-nums}th{background:#f0f0f0}
img{max-width:100%;border:1px solid #ddd}
"""


def number(value: object) -> str:
    """How a number is written on the page (6 significant digits; integers whole)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, ".6g")
    return "" if value is None else str(value)


def flatten(metrics: object, prefix: str = "") -> list[tuple[str, object]]:
    """(dotted key, leaf) for every leaf of metrics.json, lists indexed: nothing is left out."""
    if isinstance(metrics, dict):
        out = []
        for k, v in metrics.items():
            out += flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(metrics, list):
        out = []
        for i, v in enumerate(metrics):
            out += flatten(v, f"{prefix}[{i}]")
        return out
    return [(prefix, metrics)]


def _table(header: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(number(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def per_task(frame: pl.DataFrame) -> pl.DataFrame:
    """Per task: examples, exact share, token accuracy, confidence, segments."""
    return (
        frame.group_by("task_id", maintain_order=True)
        .agg(
            pl.len().alias("examples"),
            pl.col("exact").mean().alias("exact"),
            pl.col("token_accuracy").mean().alias("token_accuracy"),
            pl.col("confidence").mean().alias("mean_confidence"),
            pl.col("segments").cast(pl.Float64).mean().alias("mean_segments"),
        )
        .sort("task_id")
    )


def _picture(path: Path, heading: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    alt = html.escape(heading)
    return f'<h2>{alt}</h2><img alt="{alt}" src="data:image/png;base64,{data}">'


def render(metrics: dict, frame: pl.DataFrame, folder: Path) -> str:
    """The page's text."""
    title = f"Evaluation: split {metrics.get('split', '?')}, codec {metrics.get('codec', '?')}"
    parts = [f"<h1>{html.escape(title)}</h1>"]
    headline = [[k, v] for k, v in metrics.items() if isinstance(v, (int, float, str))]
    parts += ["<h2>Headline</h2>", _table(["metric", "value"], headline)]
    halting = metrics.get("halting", {})
    rules = [r for r in ("max", "q") if r in halting]
    if rules:
        keys = ["exact_accuracy", "segments_mean", "compute_saved"]
        rows = [[f"--halt {r}", *(halting[r].get(k) for k in keys)] for r in rules]
        parts += ["<h2>Halting rules side by side</h2>", _table(["rule", *keys], rows)]
    tasks = per_task(frame)
    parts += [
        f"<h2>Per task ({len(tasks)})</h2>",
        _table(tasks.columns, [list(r) for r in tasks.iter_rows()]),
    ]
    for name, heading in PICTURES:
        if (folder / name).is_file():
            parts.append(_picture(folder / name, heading))
    parts += ["<h2>Every number of metrics.json</h2>", _table(["key", "value"], flatten(metrics))]
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )


def write_html(metrics: dict, frame: pl.DataFrame, folder: Path) -> Path:
    path = folder / HTML_FILE
    path.write_text(render(metrics, frame, folder), encoding="utf-8")
    return path
