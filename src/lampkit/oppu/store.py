"""Per-user adapter folders: ``<root>/<user hash>/`` holding the PEFT adapter (``adapter_config.json``,
``adapter_model.safetensors``), its card (``README.md``) and ``oppu.json``, the record written last.

A folder is written under a temporary sibling (``.<hash>.tmp-*``) and renamed into place, so a crash leaves a
temporary folder, never a half-written user folder. A user is complete when the folder's record reads and its
weights have the size the record gives; anything else (a leftover temporary folder, a folder without record or
with short weights) is reported in one line, removed and trained again, and never loaded.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from ..adapters.checks import same_model
from ..errors import LampkitError
from ..errors import first_few
from ..users import USER_HASH
from ..users import user_hash

RECORD_NAME = "oppu.json"
WEIGHTS_NAME = "adapter_model.safetensors"
CONFIG_NAME = "adapter_config.json"
#: Record fields every complete adapter has.
RECORD_FIELDS = ("user", "task", "base_model", "method", "steps", "loss", "seconds", "bytes")

log = logging.getLogger("lampkit.oppu")


def read_record(folder: str | os.PathLike) -> dict | None:
    """The record of a complete adapter folder, or None when the folder is missing, incomplete or damaged."""
    folder = Path(folder)
    try:
        record = json.loads((folder / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or any(k not in record for k in RECORD_FIELDS):
        return None
    weights = folder / WEIGHTS_NAME
    if not (folder / CONFIG_NAME).is_file() or not weights.is_file() or weights.stat().st_size != record["bytes"]:
        return None
    return record


def check_adapter(folder: str | os.PathLike, *, task: str, base_model: str | None = None) -> dict:
    """The record of a complete adapter folder made for ``task`` (and ``base_model``, when given), else a
    LampkitError naming the folder and the field that differs."""
    record = read_record(folder)
    if record is None:
        raise LampkitError(f"not a complete per-user adapter (no valid {RECORD_NAME}, or weights missing or "
                           "short: a crashed write?)", file=folder)
    if record["task"] != task:
        raise LampkitError(f"adapter was trained for {record['task']}, not {task}", file=Path(folder) / RECORD_NAME,
                           field="task")
    if base_model is not None and not same_model(record["base_model"], base_model):
        raise LampkitError(f"adapter was trained on {record['base_model']!r}, not on model_name_or_path "
                           f"{base_model!r}", file=Path(folder) / RECORD_NAME, field="model_name_or_path")
    return record


def check_same_training(root: str | os.PathLike, wanted: dict) -> None:
    """Refuse to add to a store whose complete adapters were made otherwise than ``wanted`` (a record's task,
    base model, start, method, pairs and settings): a re-run skips complete users, so the store would mix
    adapters of two trainings, served together as one. The LampkitError names the first field that differs."""
    root = Path(root)
    if not root.is_dir():
        return
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        record = read_record(entry.path) if entry.is_dir() and USER_HASH.fullmatch(entry.name) else None
        if record is None:
            continue
        for key, value in wanted.items():
            pairs = value.items() if isinstance(value, dict) else [(None, value)]
            for sub, new in pairs:
                old = record.get(key, {}).get(sub, new) if sub else record.get(key, new)
                if old != new and not (key == "base_model" and same_model(old, new)):
                    name = f"{key}.{sub}" if sub else key
                    raise LampkitError(f"holds adapters trained with {name} {old!r}, this run has {new!r}; a re-run "
                                       "resumes only with the same settings: choose another output_dir",
                                       file=Path(entry.path) / RECORD_NAME, field=name)


def check_store_folder(root: str | os.PathLike, inputs=()) -> None:
    """Refuse an output folder that is not (yet) a store of per-user adapters: a file, a folder inside one of
    ``inputs`` (``(field, path)`` pairs), or a folder holding anything but ``<user hash>/`` folders and hidden
    temporaries (a built dataset, another recipe's output), where the adapters would be mixed in."""
    from ..paths import check_output_dir

    path = check_output_dir(root, option="output_dir", inputs=inputs)
    if not path.is_dir():
        return
    foreign = sorted(e.name for e in os.scandir(path) if not e.name.startswith(".")
                     and not (e.is_dir() and USER_HASH.fullmatch(e.name)))
    if foreign:
        raise LampkitError(f"holds {first_few(foreign)}: not a folder of per-user adapters (sft_oppu adds <user hash>/"
                           " folders to a new folder or to its own); choose another output_dir", file=root,
                           field="output_dir")


class AdapterStore:
    """The folder of one run's per-user adapters; users are named on disk by ``user_hash(user_id, salt)``."""

    def __init__(self, root: str | os.PathLike, salt: str):
        self.root, self.salt = Path(root), salt
        self._leftovers: dict[str, list[Path]] | None = None
        self._root_made = False

    def name(self, user_id: str) -> str:
        return user_hash(str(user_id), self.salt)

    def folder(self, user_id: str) -> Path:
        return self.root / self.name(user_id)

    def record(self, user_id: str) -> dict | None:
        return read_record(self.folder(user_id))

    def needs_training(self, user_id: str) -> bool:
        """False for a complete user (left untouched); True otherwise, after removing what a crash left (one log
        line each). The folder is listed for leftovers once per store object, at its first call."""
        name = self.name(user_id)
        if self._leftovers is None:  # one listing of what crashed runs left, not one per user
            self._leftovers = {}
            for entry in sorted(os.scandir(self.root), key=lambda e: e.name) if self.root.is_dir() else []:
                if entry.name.startswith(".") and ".tmp-" in entry.name:
                    self._leftovers.setdefault(entry.name[1:entry.name.index(".tmp-")], []).append(Path(entry.path))
        for tmp in self._leftovers.pop(name, []):
            log.warning("%s: half-written adapter of user %s (a crashed run); removed, retraining", tmp, name)
            shutil.rmtree(tmp, ignore_errors=True)
        folder = self.folder(user_id)
        if read_record(folder) is not None:
            return False
        if folder.exists():
            log.warning("%s: incomplete adapter (no valid %s or short weights); removed, retraining", folder,
                        RECORD_NAME)
            shutil.rmtree(folder)
        return True

    def temp_folder(self, user_id: str) -> Path:
        """A fresh temporary sibling of the user's folder, to write the adapter into before :meth:`commit`."""
        if not self._root_made:
            self.root.mkdir(parents=True, exist_ok=True)
            self._root_made = True
        return Path(tempfile.mkdtemp(prefix=f".{self.name(user_id)}.tmp-", dir=self.root))

    def commit(self, user_id: str, tmp: Path, record: dict) -> Path:
        """Write the record into ``tmp`` (with ``bytes`` from the weights on disk) and rename ``tmp`` into place."""
        record = dict(record, user=self.name(user_id), bytes=(tmp / WEIGHTS_NAME).stat().st_size)
        (tmp / RECORD_NAME).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)
        final = self.folder(user_id)
        os.replace(tmp, final)
        return final
