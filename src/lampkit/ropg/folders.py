"""Feedback and retriever-score datasets as ordinary Hub-ready ``datasets`` folders.

A folder holds ``data/<split>-NNNNN-of-NNNNN-<digest>.parquet`` (``lampkit.build.write_split``: the content digest
in the names keeps ``datasets``' cache of a rewritten folder from serving old rows), a ``README.md`` card whose
YAML ``configs:`` lets stock ``datasets.load_dataset(folder)`` read it (and ``lampkit push`` push it), and
``ropg.json``: what was scored, on which config and split, with which reader, prompt and decoding. Readers check
that record before any training.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

import datasets

from .. import __version__
from ..atomic import replace_dir
from ..build import write_split
from ..errors import LampkitError

RECORD = "ropg.json"
log = logging.getLogger("lampkit.ropg")
#: What ``write_scores`` puts in its folder.
SCORE_FOLDER = ("data", RECORD, "README.md")


KINDS = {"item_scores": "profile-item utilities (ROPG feedback)", "retriever_scores": "retriever-pool outputs (RSPG "
         "feedback)"}


def _card(meta: dict, split: str, num_rows: int, digest: str) -> str:
    settings = "\n".join(f"- **{k}**: `{json.dumps(v)}`" for k, v in meta.items() if k not in ("kind",))
    return f"""---
configs:
- config_name: default
  data_files:
  - split: {split}
    path: data/{split}-*-{digest}.parquet
tags:
- lampkit
- {meta["kind"].replace("_", "-")}
---
# {meta["task"]} {KINDS[meta["kind"]]}

{num_rows} rows written by lampkit {__version__} (`lampkit.ropg`). Load with `datasets.load_dataset(folder)`;
`ropg.json` holds the settings below in machine-readable form.

{settings}
"""


def write_scores(rows: list[dict], out: str | Path, meta: dict, split: str) -> Path:
    """Write ``rows`` and ``meta`` (``kind``, ``task``, ``config``, ``split``, ...) as a dataset folder, atomically."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _, digest = write_split(datasets.Dataset.from_list(rows), tmp / "data", split)
        record = {**meta, "split": split, "num_rows": len(rows), "lampkit_version": __version__}
        (tmp / RECORD).write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
        (tmp / "README.md").write_text(_card(record, split, len(rows), digest), encoding="utf-8")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_scores(folder: str | Path, kind: str) -> tuple[datasets.Dataset, dict]:
    """The rows and record of a folder written by :func:`write_scores`, checked to be of ``kind``."""
    folder = Path(folder)
    path = folder / RECORD
    if not path.is_file():
        raise LampkitError(f"not a lampkit {kind.replace('_', '-')} folder (no {RECORD})", file=folder)
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("kind") != kind:
        raise LampkitError(f"holds {meta.get('kind')}, expected {kind}", file=path, field="kind")
    rows = datasets.load_dataset(str(folder), split=meta["split"])
    return rows, meta


def check_same_data(meta: dict, source: str | Path, *, task: str, config: str, split: str | None = None,
                    dataset: str | None = None) -> None:
    """Refuse scores made on another task, config (or split) than the run's; warn where they were scored on
    another ``dataset`` folder or repo (a copy is fine, other questions are not)."""
    for field, want in (("task", task), ("config", config), ("split", split)):
        if want is not None and meta.get(field) != want:
            raise LampkitError(f"scored on {field} {meta.get(field)}, but this run uses {want}",
                               file=Path(source) / RECORD, field=field)
    scored = meta.get("dataset")
    if dataset is not None and scored is not None and scored != dataset and not (
            Path(scored).exists() and Path(dataset).exists() and Path(scored).resolve() == Path(dataset).resolve()):
        log.warning("%s: scored on dataset %s, and this run reads %s: they must hold the same questions",
                    Path(source) / RECORD, scored, dataset)


def read_pool(folders: list[str]) -> tuple[datasets.Dataset, dict, list[str]]:
    """Retriever-score folders pooled: their rows, the first one's record with every folder's pool, and the pool's
    retriever names. The folders must share task, config, split, reader, decoding, prompts and ``k``."""
    if not folders:
        raise LampkitError("no retriever-score folders given", field="scores")
    parts, pool, first = [], [], None
    shared = ("task", "config", "split", "reader", "decoding", "prompt_max_length", "k", "utility_metric")
    for folder in folders:
        rows, meta = read_scores(folder, "retriever_scores")
        if first is None:
            first = {**meta, "pool": []}
        for key in shared:
            if meta.get(key) != first.get(key):
                raise LampkitError(f"{key} {meta.get(key)!r} differs from {folders[0]}'s {first.get(key)!r}",
                                   file=Path(folder) / RECORD, field=key)
        for member in meta["pool"]:
            if member["name"] in pool:
                raise LampkitError(f"retriever {member['name']!r} is in two folders of the pool",
                                   file=Path(folder) / RECORD, field="pool")
            pool.append(member["name"])
            first["pool"].append(member)
        parts.append(rows)
    return datasets.concatenate_datasets(parts), first, pool
