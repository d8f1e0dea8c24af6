"""``lampkit show``: load a built folder (or Hub repo) with stock ``datasets`` and summarise it."""

from __future__ import annotations

import datasets


def show(folder: str, config: str | None = None) -> str:
    """One block per config: its splits with row counts and columns, and the first validation question."""
    names = [config] if config else datasets.get_dataset_config_names(folder)
    lines = []
    for name in names:
        splits = datasets.load_dataset(folder, name)
        lines.append(f"{name}:")
        for split, ds in splits.items():
            lines.append(f"  {split:<10} {ds.num_rows:>6} rows  columns: {', '.join(ds.column_names)}")
        first = next((splits[s][0] for s in ("validation", "train") if s in splits and splits[s].num_rows), None)
        if first is not None:
            lines.append(f"  example: {_clip(first['input'], 90)} -> {_clip(first['output'], 60)!r}"
                         f" ({len(first['profile'])} profile items)")
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
