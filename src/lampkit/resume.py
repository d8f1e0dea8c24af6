"""Work that resumes: records appended one JSON line at a time to files of a work folder, beside the settings they
were made with (``settings.json``). A killed run redoes only what is not done (a line torn by the kill included);
a run with other settings reuses nothing, since its records would pass as done."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from .atomic import write_file
from .errors import LampkitError

SETTINGS = "settings.json"
log = logging.getLogger("lampkit")


def start_work(work_dir: str | Path, settings: dict, parts: str = "*.jsonl") -> None:
    """Make ``work_dir`` hold work done with ``settings``: record files (``parts``) of a run with other settings are
    removed, with a warning naming what changed."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    settings = json.loads(json.dumps(settings))  # as read back: tuples become lists
    path = work_dir / SETTINGS
    try:
        before = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        before = None
    files = sorted(work_dir.glob(parts))
    if before != settings and files:
        old = before if isinstance(before, dict) else {}
        changed = sorted(k for k in {**old, **settings} if old.get(k) != settings.get(k))
        log.warning("%s: made with other settings (%s); its records are dropped and the work starts over", work_dir,
                    ", ".join(changed) if before is not None else "unrecorded")
        for file in files:
            file.unlink()
    if before != settings:
        write_file(path, lambda tmp: Path(tmp).write_text(json.dumps(settings, sort_keys=True), encoding="utf-8"))


def repair(path: str | Path) -> None:
    """Drop a last line cut short by a kill (everything after the last newline), so appending starts a new line."""
    path = Path(path)
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[:data.rfind(b"\n") + 1])


def read_records(path: str | Path) -> list[dict]:
    """The records of one JSON-lines file; a torn last line is left out (it is redone), any other unreadable line
    is a LampkitError naming the file and line."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").split("\n")
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):  # torn by a kill
                continue
            raise LampkitError("unreadable line; remove the work folder to start over", file=path,
                               record=f"line {number}") from None
    return records
