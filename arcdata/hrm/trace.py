"""Reasoning traces: what a few chosen examples look like after every segment, and how the
latent states move.

The numbers alone do not say *how* the model reasons. For a handful of examples (named with
``--trace TASK[:VERSION]``, else the first few right and the first few wrong ones) this runs every
segment again through :func:`arcdata.hrm.evaluate.run_segments` (the one loop over segments),
and keeps per segment: the answer (in the raw task's frame, as ``predictions.parquet``),
q_halt / q_continue, the norm of the change of each level's state, and a 2-D PCA of the slowest
state's trajectory. The full states are too large to keep (positions x hidden size per
segment), so only these summaries are saved, in ``trace.json``: ``arcdata report`` redraws the
pictures from it without the model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import torch

from arcdata import jsonio
from arcdata.errors import InputError

from .act import HRM, ACTOutput, Carry, wants_halt
from .data import to_device

TRACE_FILE = "trace.json"
DEFAULT_PER_KIND = 2  # right ones and wrong ones traced when none are named


@dataclass
class Trace:
    """One traced example, every segment of it (grids as nested lists: strict JSON)."""

    example_index: int
    task_id: str
    version: int
    pair_index: int
    input: list  # raw-frame grid
    target: list
    answers: list = field(default_factory=list)  # per segment: raw-frame grid ([] if none)
    q_halt: list = field(default_factory=list)  # per segment: logit
    q_continue: list = field(default_factory=list)
    exact: list = field(default_factory=list)  # per segment: answer equals the target
    changed: list = field(default_factory=list)  # per segment: cells changed since the previous
    levels: list = field(default_factory=list)  # state names, slowest first: z_H, ..., z_L
    state_change: list = field(default_factory=list)  # [level][segment] ||z_t - z_{t-1}||
    pca: list = field(default_factory=list)  # [segment] (pc1, pc2) of the z_H trajectory
    pca_explained: list = field(default_factory=list)  # share of variance of pc1, pc2
    halt_segment: int = 0  # first segment the model's own halting rule fires (else the last)

    def grids(self) -> tuple[np.ndarray, np.ndarray, list[np.ndarray | None]]:
        def arr(g):
            return np.array(g, np.uint8).reshape(len(g), -1) if len(g) else None

        return arr(self.input), arr(self.target), [arr(a) for a in self.answers]


def level_names(n: int) -> list[str]:
    """z_H (slowest), z_M1 ... (middle levels of an N-level HRM), z_L (fastest)."""
    if n == 1:
        return ["z_H"]
    return ["z_H", *(f"z_M{i}" for i in range(1, n - 1)), "z_L"]


def parse_spec(spec: str) -> tuple[str, int | None]:
    """``TASK`` or ``TASK:VERSION`` (version: the integer ``version`` column)."""
    task, sep, version = spec.rpartition(":")
    if not sep:
        return spec, None
    if not version.isdigit() or not task:
        raise InputError(f"--trace {spec}: expected TASK or TASK:VERSION (VERSION an integer)")
    return task, int(version)


def choose(frame: pl.DataFrame, specs: list[str], per_kind: int = DEFAULT_PER_KIND) -> list[int]:
    """Example indices to trace: each spec's first matching example (test pairs first), or,
    with no specs, the first ``per_kind`` exactly right and the first ``per_kind`` wrong ones."""
    ranked = frame.with_columns((pl.col("role") != "test").alias("_later")).sort(
        "_later", "example_index"
    )
    chosen: list[int] = []
    for spec in specs:
        task, version = parse_spec(spec)
        hit = ranked.filter(pl.col("task_id") == task)
        if version is not None:
            hit = hit.filter(pl.col("version") == version)
        if not len(hit):
            known = "present" if (ranked["task_id"] == task).any() else "absent"
            raise InputError(
                f"--trace {spec}: no such example in the scored split (task {task} is {known}); "
                "name a task id of the split, optionally :VERSION"
            )
        chosen.append(int(hit["example_index"][0]))
    if not specs:
        for right in (True, False):
            picked = ranked.filter(pl.col("exact") == right)["example_index"][:per_kind]
            chosen += [int(i) for i in picked]
    return list(dict.fromkeys(chosen))


def pca_2d(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(S, 2) coordinates of S points on their first two principal axes, and the share of
    variance each axis explains (numpy SVD of the centred points; zeros where undefined)."""
    x = points.astype(np.float64)
    x = x - x.mean(0, keepdims=True)
    coords = np.zeros((len(x), 2))
    share = np.zeros(2)
    if len(x) < 2:
        return coords, share
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    k = int(min(2, (s > 1e-9 * s[0]).sum()))  # axes of (numerically) no variance stay 0
    coords[:, :k] = u[:, :k] * s[:k]
    total = float((s**2).sum())
    if total > 0:
        share[:k] = s[:k] ** 2 / total
    return coords, share


@torch.inference_mode()
def run_traces(
    model: HRM,
    stream,
    rows: pl.DataFrame,
    indices: list[int],
    device: torch.device,
    codec_name: str,
) -> list[Trace]:
    """Every segment of the examples ``indices`` (rows of ``stream``'s split), from a fresh
    carry, with real puzzle ids."""
    from arcdata.tokens import get_codec

    from .evaluate import run_segments
    from .report import prediction_grid, raw_frame_grid, row_grid

    if not indices:
        return []
    codec = get_codec(codec_name)
    model.eval()
    batch = to_device(stream.make_batch(np.array(indices, np.int64)), device)
    inits = model.inner.init_vectors()
    n_levels = len(inits)
    _, length, dim = model.initial_carry(batch).z_H.shape
    prev = [init.float().expand(len(indices), length, dim) for init in inits]
    seen: list[dict] = []

    def on_segment(step: int, carry: Carry, out: ACTOutput) -> None:
        states = [z.float() for z in carry.states(n_levels)]  # (B, L, D) each
        change = [
            (z - p).flatten(1).norm(dim=1).cpu().numpy() for z, p in zip(states, prev, strict=True)
        ]
        prev[:] = states
        seen.append(
            {
                "tokens": out.logits.argmax(-1).cpu().numpy().astype(np.uint8),  # (B, T)
                "q_halt": out.q_halt_logits.float().cpu().numpy(),
                "q_continue": out.q_continue_logits.float().cpu().numpy(),
                "wants": wants_halt(model.config, out.q_halt_logits, out.q_continue_logits)
                .cpu()
                .numpy(),
                "change": change,
                "z_H": states[0].flatten(1).cpu().numpy(),  # (B, L*D)
            }
        )

    run_segments(model, batch, on_segment=on_segment)
    traces = []
    for b, idx in enumerate(indices):
        r = rows.row(idx, named=True)
        inp = raw_frame_grid(r, row_grid(r, "input"))
        target = raw_frame_grid(r, row_grid(r, "output"))
        t = Trace(
            idx, r["task_id"], int(r["version"]), int(r["pair_index"]),
            inp.tolist(), target.tolist(), levels=level_names(n_levels),
        )  # fmt: skip
        before = None
        for s in seen:
            g = raw_frame_grid(r, prediction_grid(codec, r, s["tokens"][b]))
            t.answers.append([] if g is None else g.tolist())
            t.q_halt.append(float(s["q_halt"][b]))
            t.q_continue.append(float(s["q_continue"][b]))
            t.exact.append(g is not None and g.shape == target.shape and bool((g == target).all()))
            t.changed.append(_changed(before, g))
            before = g
        t.state_change = [[float(s["change"][k][b]) for s in seen] for k in range(n_levels)]
        coords, share = pca_2d(np.stack([s["z_H"][b] for s in seen]))
        t.pca, t.pca_explained = coords.tolist(), share.tolist()
        fires = [bool(s["wants"][b]) for s in seen]
        t.halt_segment = (fires.index(True) + 1) if True in fires else len(seen)
        traces.append(t)
    return traces


def _changed(before: np.ndarray | None, now: np.ndarray | None) -> int:
    """Cells that differ from the previous segment's answer (all of them if the shape moved)."""
    if now is None:
        return 0
    if before is None or before.shape != now.shape:
        return int(now.size)
    return int((before != now).sum())


def save(traces: list[Trace], folder: Path) -> None:
    (folder / TRACE_FILE).write_text(jsonio.dumps([asdict(t) for t in traces]) + "\n")


def load(folder: Path) -> list[Trace]:
    path = folder / TRACE_FILE
    if not path.is_file():
        return []
    import json

    return [Trace(**d) for d in json.loads(path.read_text())]


def caption_of(t: Trace) -> str:
    verdict = "right" if t.exact and t.exact[-1] else "wrong"
    return (
        f"task {t.task_id}, version {t.version}, pair {t.pair_index}: {verdict} after "
        f"{len(t.answers)} segments (the halting rule fires at segment {t.halt_segment})"
    )


def draw_reasoning(traces: list[Trace], codec: str, path: Path) -> None:
    """``reasoning_steps.png``: per traced example a captioned strip input, segment 1..S,
    target (Sudoku digits on box lines, ARC in the shared palette)."""
    from arcdata.picture import Panel, Strip, write_strips_png

    strips = []
    for t in traces:
        inp, target, answers = t.grids()
        panels = [Panel("input", inp)]
        for k, g in enumerate(answers):
            mark = "right" if t.exact[k] else "wrong"
            halt = "  (halts)" if k + 1 == t.halt_segment else ""
            lines = [
                f"segment {k + 1}{halt}",
                f"q_halt = {t.q_halt[k]:.2f}",
                f"{t.changed[k]} cells changed",
                mark,
            ]
            shown = g if g is not None else np.zeros((1, 1), np.uint8)
            panels.append(Panel("\n".join(lines), shown, givens=inp, good=t.exact[k]))
        panels.append(Panel("target", target, givens=inp))
        strips.append(Strip(caption_of(t), panels))
    if strips:
        title = "Reasoning steps: the answer after every segment"
        write_strips_png(path, title, strips, codec)


def plot_latents(traces: list[Trace], path: Path) -> None:
    """``latents.png``: per segment the norm of each level state's change, and the 2-D PCA of
    each traced example's z_H trajectory (start marked o, end marked x)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not traces:
        return
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = ["-", "--", ":", "-."]
    for i, t in enumerate(traces):
        colour = f"C{i % 10}"
        label = f"{t.task_id}:{t.version}"
        for k, name in enumerate(t.levels):
            ys = t.state_change[k]
            a.plot(range(1, len(ys) + 1), ys, styles[k % 4], color=colour, label=f"{label} {name}")
        xy = np.array(t.pca)
        b.plot(xy[:, 0], xy[:, 1], "-", color=colour, label=label)
        b.plot(xy[0, 0], xy[0, 1], "o", color=colour)
        b.plot(xy[-1, 0], xy[-1, 1], "x", color=colour, markersize=9)
    a.set_yscale("symlog", linthresh=1e-3)
    a.set_xlabel("segment")
    a.set_ylabel("norm of the state's change")
    a.set_title("How far each level's state moves per segment")
    a.legend(fontsize=6, ncol=2)
    share = traces[0].pca_explained
    b.set_xlabel(f"PC 1 (first example: {share[0]:.0%} of variance)")
    b.set_ylabel(f"PC 2 ({share[1]:.0%})")
    b.set_title("z_H trajectory, 2-D PCA per example (o start, x end)")
    b.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_traces(traces: list[Trace], codec: str, folder: Path) -> None:
    """trace.json and the two pictures drawn from it."""
    import contextlib

    save(traces, folder)
    with contextlib.suppress(ImportError):  # matplotlib is optional (the plot extra)
        from arcdata.errors import ArcdataError

        try:
            draw_reasoning(traces, codec, folder / "reasoning_steps.png")
        except ArcdataError:
            return
        plot_latents(traces, folder / "latents.png")
