"""The dataset card: ``README.md`` beside the manifest, so Hugging Face tools read a built folder.

``datasets.load_dataset(DIR)`` without a card guesses splits from file names and merges folders
it does not recognise (``eval_demos`` lands in ``test``). The card's ``configs:`` front matter
names every split folder as its own split. It is derived from the manifest alone, so the same
build writes the same bytes.
"""

from __future__ import annotations

from pathlib import Path

CARD = "README.md"


def card_text(manifest: dict) -> str:
    """The card for ``manifest``: YAML front matter (configs, tags) and a short description."""
    splits = sorted(manifest["splits"])
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in splits:
        lines += [f"  - split: {split}", f"    path: {split}/*.parquet"]
    lines += [
        "tags:",
        "- arcdata",
        "- hrm",
        f"- {manifest['codec']}",
        "---",
        "",
        f"# {manifest['name']}",
        "",
        f"Built by arcdata {manifest['code_version']} (config {manifest['config_hash']}): "
        f"codec `{manifest['codec']}`, {manifest['seq_len']} tokens per example, "
        f"vocabulary {manifest['vocab_size']}.",
        "",
        "| split | rows | groups | puzzles |",
        "|---|---|---|---|",
    ]
    for split in splits:
        s = manifest["splits"][split]
        lines.append(f"| {split} | {s['rows']:,} | {s['groups']:,} | {s['puzzles']:,} |")
    lines += [
        "",
        "Each row is one example: its grids as bytes, the task, version and pair it comes from,",
        "and the transform of its augmentation. `arcdata.dataset.decode_row` gives the grids,",
        "`undo_augmentation` maps them back to the original task and `row_tokens` gives the",
        "model's tokens; `manifest.json` describes every file and `arcdata verify` checks them.",
        "",
    ]
    return "\n".join(lines)


def write_card(root: str | Path, manifest: dict) -> Path:
    path = Path(root) / CARD
    path.write_text(card_text(manifest))
    return path
