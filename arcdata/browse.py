"""``arcdata browse``: a built dataset as one self-contained HTML page (no server, no upload).

The grids travel as compact JSON strings (one character per cell) and a small inline script
draws them on canvases with the same palettes as ``show``; only the first few versions of each
task (and at most ``max_tasks`` tasks) are embedded, so ARC-AGI-1 x 1000 stays a few MB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from arcdata import jsonio
from arcdata.augment.transform import Transform
from arcdata.dataset import shard_paths
from arcdata.render import ARC_PALETTE, MAZE_LABELS, MAZE_PALETTE
from arcdata.storage.manifest import read_manifest

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
COLUMNS = [
    "task_id",
    "split",
    "version",
    "role",
    "pair_index",
    "dihedral",
    "colour_map",
    "row_map",
    "col_map",
    "embedding_id",
    "input_h",
    "input_w",
    "output_h",
    "output_w",
    "input",
    "output",
]


def _grid_text(cells: bytes, h: int, w: int) -> str:
    """``h`` rows of ``w`` characters joined by '|': 0-9 then a-z (Sudoku 16x16 and up)."""
    table = np.frombuffer(DIGITS.encode(), np.uint8)
    chars = table[np.frombuffer(cells, np.uint8)].tobytes().decode()
    return "|".join(chars[r * w : (r + 1) * w] for r in range(h))


def collect(root: Path, versions: int, max_tasks: int) -> dict:
    """The page's data: the dataset's facts and, per task, its first `versions` versions."""
    manifest = read_manifest(root)
    frame = pl.scan_parquet([str(p) for p in shard_paths(root, manifest)])
    frame = frame.filter(pl.col("version") < versions).select(COLUMNS)
    all_ids = frame.select(pl.col("task_id").unique()).collect()["task_id"].sort()
    shown = all_ids.head(max_tasks)
    rows = (
        frame.filter(pl.col("task_id").is_in(shown.implode()))
        .sort(
            ["task_id", "version", "split", "role", "pair_index"],
            descending=[False, False, False, True, False],  # demonstrations before tests
        )
        .collect()
    )
    tasks: dict[str, dict] = {}
    for r in rows.iter_rows(named=True):
        task = tasks.setdefault(r["task_id"], {})
        key = str(r["version"])
        if key not in task:
            task[key] = {
                "transform": Transform.from_row(r).describe(),
                "embedding_id": r["embedding_id"],
                "pairs": [],
            }
        task[key]["pairs"].append(
            {
                "split": r["split"],
                "role": r["role"],
                "pair": r["pair_index"],
                "id": r["embedding_id"],
                "in": _grid_text(r["input"], r["input_h"], r["input_w"]),
                "out": _grid_text(r["output"], r["output_h"], r["output_w"]),
            }
        )
    return {
        "name": manifest["name"],
        "codec": manifest["codec"],
        "total_tasks": len(all_ids),
        "versions_shown": versions,
        "versions_total": manifest["totals"]["versions"],
        "palette": (MAZE_PALETTE if manifest["codec"] == "maze" else ARC_PALETTE).tolist(),
        "maze_labels": list(MAZE_LABELS),
        "tasks": tasks,
    }


def write_site(root: Path, out: Path, versions: int = 3, max_tasks: int = 2000) -> Path:
    """Write ``out/index.html``; returns its path."""
    data = collect(root, versions, max_tasks)
    out.mkdir(parents=True, exist_ok=True)
    payload = jsonio.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    page = PAGE.replace("__DATA__", payload).replace("__TITLE__", _escape(data["name"]))
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>__TITLE__ \u00b7 arcdata browse</title>
<style>
body{margin:0;font:14px system-ui,sans-serif;color:#222;display:flex;height:100vh}
#side{width:260px;border-right:1px solid #ccc;display:flex;flex-direction:column}
#side input{margin:8px;padding:6px;font-size:14px}
#count{margin:0 8px 6px;color:#666}
#list{overflow:auto;flex:1;margin:0;padding:0;list-style:none}
#list li{padding:3px 10px;cursor:pointer;font-family:monospace}
#list li:hover,#list li.on{background:#def}
#main{flex:1;overflow:auto;padding:12px 20px}
h1{font-size:20px;margin:4px 0}h2{font-size:16px;margin:18px 0 4px}
.pair{display:inline-block;margin:6px 18px 6px 0;vertical-align:top}
.cap{font-size:12px;color:#444;margin-bottom:3px}
.arrow{font-size:22px;margin:0 8px;vertical-align:middle}
canvas{vertical-align:middle}
.legend span{display:inline-block;width:12px;height:12px;border:1px solid #555;margin:0 4px 0 12px}
</style></head><body>
<div id="side"><input id="q" type="search" placeholder="search tasks" autofocus>
<div id="count"></div><ul id="list"></ul></div>
<div id="main"><p>Pick a task.</p></div>
<script id="data" type="application/json">__DATA__</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const ids = Object.keys(D.tasks).sort();
const sudoku = D.codec.startsWith("sudoku");
const rgb = c => "rgb(" + c.join(",") + ")";
function parse(s) { return s.split("|").map(r => Array.from(r, ch => parseInt(ch, 36))); }
function draw(text, givens) {
  const g = parse(text), h = g.length, w = g[0].length;
  const cell = Math.max(sudoku ? 18 : 6, Math.min(sudoku ? 30 : 20, Math.floor(300 / Math.max(h, w))));
  const cv = document.createElement("canvas");
  cv.width = w * cell + 1; cv.height = h * cell + 1;
  const x = cv.getContext("2d");
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) {
    const v = g[r][c];
    x.fillStyle = sudoku ? (v > 0 && (!givens || givens[r][c] > 0) ? "#e4e4e4" : "#fff")
                         : rgb(D.palette[Math.min(v, D.palette.length - 1)]);
    x.fillRect(c * cell, r * cell, cell, cell);
    if (sudoku && v > 0) {
      x.fillStyle = givens && givens[r][c] === 0 ? rgb(D.palette[1]) : "#1a1a1a";
      x.font = Math.round(cell * 0.62) + "px sans-serif";
      x.textAlign = "center"; x.textBaseline = "middle";
      x.fillText(String(v), c * cell + cell / 2, r * cell + cell / 2 + 1);
    }
  }
  const box = sudoku && h === w ? Math.round(Math.sqrt(h)) : 0;
  for (let k = 0; k <= Math.max(h, w); k++) {
    const thick = box && k % box === 0;
    x.fillStyle = thick ? "#141414" : sudoku ? "#aaa" : "#555";
    const t = thick ? 3 : 1, o = k * cell - (thick ? 1 : 0);
    if (k <= h) x.fillRect(0, o, cv.width, t);
    if (k <= w) x.fillRect(o, 0, t, cv.height);
  }
  return {canvas: cv, grid: g};
}
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
function show(id) {
  const main = document.getElementById("main");
  main.replaceChildren(el("h1", "task " + id));
  main.append(el("div", D.name + " (" + D.codec + "), first " + D.versions_shown +
                 " versions of each task", "cap"));
  if (D.codec === "maze") {
    const lg = el("div", "", "legend");
    D.maze_labels.forEach((name, k) => {
      const s = el("span"); s.style.background = rgb(D.palette[k]); lg.append(s, name);
    });
    main.append(lg);
  }
  for (const [v, ver] of Object.entries(D.tasks[id])) {
    main.append(el("h2", "version " + v + (v === "0" ? " (original)" : "") +
                   " \u00b7 " + ver.transform + " \u00b7 embedding id " + ver.embedding_id));
    for (const p of ver.pairs) {
      const box = el("div", "", "pair");
      box.append(el("div", "split " + p.split + " \u00b7 " + p.role + " pair " + p.pair +
                    " \u00b7 id " + p.id, "cap"));
      const a = draw(p.in), b = draw(p.out, a.grid);
      box.append(a.canvas, el("span", "\u2192", "arrow"), b.canvas);
      main.append(box);
    }
  }
  for (const li of document.querySelectorAll("#list li")) li.classList.toggle("on", li.textContent === id);
}
function filter() {
  const q = document.getElementById("q").value.trim().toLowerCase();
  const list = document.getElementById("list");
  const hits = ids.filter(id => id.toLowerCase().includes(q));
  list.replaceChildren(...hits.slice(0, 3000).map(id => {
    const li = el("li", id); li.onclick = () => { location.hash = "task=" + encodeURIComponent(id); };
    return li;
  }));
  document.getElementById("count").textContent = hits.length + " of " + ids.length +
    " tasks" + (D.total_tasks > ids.length ? " (of " + D.total_tasks + " in the dataset)" : "");
  return hits;
}
function route() {
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.has("q")) document.getElementById("q").value = h.get("q");
  const hits = filter();
  const id = h.get("task") || hits[0];
  if (id && D.tasks[id]) show(id);
}
document.getElementById("q").addEventListener("input", filter);
window.addEventListener("hashchange", route);
route();
</script></body></html>
"""
