"""``lampkit show``: load a built folder (or Hub repo) with stock ``datasets`` and summarise it."""

from __future__ import annotations

from pathlib import Path

import datasets

from lampkit.errors import LampkitError
from lampkit.hub import check_hub_ready
from lampkit.hub import check_repo_id
from lampkit.hub import first_line


def _check_source(source: str) -> list[str]:
    """The config names of a built folder, after checking it is whole; ``[]`` for a Hub repo id."""
    folder = Path(source)
    if not folder.exists():
        if source.count("/") != 1 or source.startswith(("/", ".", "~")):
            raise LampkitError("no such folder (nor an ORG/NAME Hub repo id)", file=source)
        check_repo_id(source)
        return []
    if not folder.is_dir():
        raise LampkitError("is a file; `lampkit show` reads a folder written by `lampkit build`", file=source)
    return check_hub_ready(folder, "dataset", whole=True)


def show(source: str, config: str | None = None) -> str:
    """One block per config: its splits with row counts and columns, and the first validation question."""
    names = _check_source(source)
    if config and names and config not in names:
        raise LampkitError(f"no config {config!r} here; it has {', '.join(names)}", file=source, field="config")
    try:
        names = [config] if config else names or datasets.get_dataset_config_names(source)
        lines = []
        for name in names:
            splits = datasets.load_dataset(source, name)
            lines.append(f"{name}:")
            for split, ds in splits.items():
                lines.append(f"  {split:<10} {ds.num_rows:>6} rows  columns: {', '.join(ds.column_names)}")
            first = next((splits[s][0] for s in ("validation", "train") if s in splits and splits[s].num_rows), None)
            if first is not None:
                lines.append(f"  example: {_clip(first['input'], 90)} -> {_clip(first['output'], 60)!r}"
                             f" ({len(first['profile'])} profile items)")
    except (OSError, ValueError, datasets.exceptions.DatasetGenerationError) as err:  # ConnectionError is an OSError
        cause = err.__cause__ or err
        raise LampkitError(f"cannot load with datasets: {first_line(cause)}", file=source) from None
    return "\n".join(lines)


def _clip(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"
