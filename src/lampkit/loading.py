"""One split of a built dataset (a folder from ``lampkit build`` or its Hub repo), with every way loading fails as
one LampkitError that names the source and the field to fix."""

from __future__ import annotations

from pathlib import Path

from .errors import LampkitError


def load_built_split(name: str, config: str, split: str, *, revision: str | None = None, limit: int | None = None,
                     split_field: str = "split"):
    """``datasets.load_dataset(name, config, split=split)``, its first ``limit`` rows where given. A missing folder
    (that is no Hub repo either, or the Hub cannot be reached), config or split is a LampkitError naming
    ``dataset_name``, ``dataset_config`` or ``split_field``."""
    import datasets

    from .hub import first_line

    try:
        rows = datasets.load_dataset(name, config, split=split, revision=revision)
    except (OSError, ValueError, datasets.exceptions.DatasetGenerationError) as err:  # ConnectionError: an OSError
        message = first_line(err.__cause__ or err)
        lowered = message.replace(str(Path(name).resolve()), "").replace(name, "").lower()  # not the path's words
        if "config" in lowered:
            field = "dataset_config"
        elif "split" in lowered:
            field = split_field
        else:
            field = "dataset_name"
            if not Path(name).exists():
                message = ("no such folder, and no such dataset on the Hub (or the Hub cannot be reached): "
                           f"{message}")
        raise LampkitError(f"cannot load {config} {split}: {message}", file=name, field=field) from None
    if limit is not None:
        rows = rows.select(range(min(limit, len(rows))))
    return rows
