"""The official file formats: ``{"task": ..., "golds": [{"id", "output"}]}`` JSON files (golds and predictions
alike, read by :mod:`lampkit.outputs`) and zips of them (every ``*.json`` inside, at any depth, the task read from
each file's ``task`` field).

Zips are read in memory, never extracted. Like the official ``glob("**/*.json")``, names with a component
starting with ``.`` (``__MACOSX/._x.json``) are skipped. Outputs are written to a temporary file and renamed.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from dataclasses import replace

from lampkit.atomic import write_file
from lampkit.errors import LampkitError
from lampkit.outputs import OutputsFile
from lampkit.outputs import parse_outputs
from lampkit.outputs import read_outputs
from lampkit.scoring.values import check_outputs
from lampkit.scoring.values import few
from lampkit.scoring.values import lookup_task
from lampkit.tasks import LEADERBOARD_TASKS
from lampkit.tasks import get_task


def _known(task: str) -> bool:
    try:
        get_task(task)
    except KeyError:
        return False
    return True


def read_task_file(path: str | os.PathLike, *, golds: bool) -> OutputsFile:
    """Read one golds or predictions JSON file."""
    parsed = read_outputs(path, golds=golds)
    return replace(parsed, task=lookup_task(parsed.task, source=parsed.source).name)


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str) -> bytes:
    """The bytes of one member; LampkitError naming it where they cannot be read."""
    if info.flag_bits & 0x1:
        raise LampkitError("encrypted: zip the files without a password", file=source)
    try:
        return archive.read(info)
    except NotImplementedError:
        raise LampkitError(f"compression method {info.compress_type} is not supported: zip with deflate or store",
                           file=source) from None
    except (OSError, EOFError, RuntimeError, zipfile.BadZipFile, zlib.error) as e:
        raise LampkitError(f"cannot read it from the zip: {e}", file=source) from None


def read_task_zip(path: str | os.PathLike, *, golds: bool) -> dict[str, OutputsFile]:
    """Every ``*.json`` in the zip, by task; two files for one task is an error. As in the official scorer, a
    gold file of a task it does not know is left out, and ``.`` or ``..`` in a name is dropped (as
    ``extractall`` does) before the hidden-name rule."""
    found: dict[str, OutputsFile] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                parts = [p for p in info.filename.split("/") if p not in ("", ".", "..")]
                if info.is_dir() or not info.filename.endswith(".json") or any(p.startswith(".") for p in parts):
                    continue
                source = f"{path}:{info.filename}"
                parsed = parse_outputs(_member(archive, info, source), source, golds=golds)
                if golds and not _known(parsed.task):
                    continue
                parsed = replace(parsed, task=lookup_task(parsed.task, source=source).name)
                if parsed.task in found:
                    raise LampkitError(f"task {parsed.task} also in {found[parsed.task].source}",
                                       file=parsed.source, field="task")
                found[parsed.task] = parsed
    except (OSError, zipfile.BadZipFile) as e:
        raise LampkitError(f"cannot read zip: {e}", file=path) from None
    if not found:
        raise LampkitError(f"no *.json files{' of a known task' if golds else ''} inside", file=path)
    return found


def align(golds: OutputsFile, preds: OutputsFile) -> list:
    """The prediction outputs in gold order; the two id sets must be equal (``1`` and ``"1"`` are one id, as in
    :mod:`lampkit.outputs`)."""
    wanted, given = {str(i) for i in golds.ids}, {str(i) for i in preds.ids}
    if wanted != given:
        missing = [i for i in golds.ids if str(i) not in given]
        extra = [i for i in preds.ids if str(i) not in wanted]
        parts = []
        if missing:
            parts.append(f"{len(missing)} gold ids have no prediction ({few(missing)})")
        if extra:
            parts.append(f"{len(extra)} prediction ids are not in the golds ({few(extra)})")
        raise LampkitError(f"prediction ids differ from the gold ids of {golds.source}: {'; '.join(parts)}",
                           file=preds.source, field="id")
    by_id = {str(i): o for i, o in zip(preds.ids, preds.outputs)}
    return [by_id[str(i)] for i in golds.ids]


def write_json(path: str | os.PathLike, obj) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, ensure_ascii=False)
            f.write("\n")
    write_file(path, write)


def export_zip(pred_paths: list[str | os.PathLike], output: str | os.PathLike) -> list[str]:
    """Write a leaderboard predictions zip (``LaMP_k.json`` per task, canonical task names) from prediction
    files covering exactly the leaderboard's seven tasks; return the member names."""
    files: dict[str, OutputsFile] = {}
    for path in pred_paths:
        parsed = read_task_file(path, golds=False)
        check_outputs(get_task(parsed.task), parsed.outputs, gold=False, ids=parsed.ids, source=parsed.source)
        if parsed.task in files:
            raise LampkitError(f"task {parsed.task} also in {files[parsed.task].source}", file=path, field="task")
        files[parsed.task] = parsed
    check_leaderboard_tasks(files, "the prediction files")

    def write(tmp):
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for task in LEADERBOARD_TASKS:
                f = files[task]
                body = {"task": task, "golds": [{"id": i, "output": o} for i, o in zip(f.ids, f.outputs)]}
                archive.writestr(f"{task}.json", json.dumps(body, ensure_ascii=False))
    write_file(output, write)
    return [f"{task}.json" for task in LEADERBOARD_TASKS]


def check_leaderboard_tasks(files: dict[str, OutputsFile], source: str) -> None:
    """The tasks must be exactly the leaderboard's seven, as the official ``eval_all.py`` requires."""
    missing = [t for t in LEADERBOARD_TASKS if t not in files]
    extra = sorted(t for t in files if t not in LEADERBOARD_TASKS)
    if missing or extra:
        detail = "; ".join(([f"missing {', '.join(missing)}"] if missing else [])
                           + ([f"not leaderboard tasks: {', '.join(extra)}"] if extra else []))
        raise LampkitError(f"must cover exactly the tasks {', '.join(LEADERBOARD_TASKS)}: {detail}", file=source,
                           field="task")
