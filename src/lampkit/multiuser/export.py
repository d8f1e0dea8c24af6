"""Write one user's adapter as an ordinary PEFT adapter folder, atomically, with a small record."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from ..atomic import replace_dir

RECORD = "lampkit_user.json"


def is_complete(folder: Path) -> bool:
    """Whether ``folder`` holds a finished adapter (the record is written last, inside the renamed folder)."""
    return (folder / RECORD).is_file() and (folder / "adapter_model.safetensors").is_file()


def write_adapter(folder: Path, peft_config, state: dict, record: dict) -> int:
    """``adapter_config.json`` + ``adapter_model.safetensors`` (PEFT's key names) + the record; returns the
    adapter file's bytes."""
    from safetensors.torch import save_file

    folder.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        peft_config.save_pretrained(build)
        save_file({k: v.contiguous() for k, v in state.items()}, build / "adapter_model.safetensors",
                  metadata={"format": "pt"})
        size = (build / "adapter_model.safetensors").stat().st_size
        (build / RECORD).write_text(json.dumps(dict(record, bytes=size), indent=1) + "\n")
        replace_dir(build, folder)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return size
