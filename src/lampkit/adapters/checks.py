"""Checks before an adapter is used: the folder is a PEFT adapter and was trained on the model it is loaded on."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import LampkitError

#: Written beside ``adapter_config.json``: the base model as the user named it (the embedded name, a repo id or
#: a folder), since PEFT records the resolved path.
LAMPKIT_ADAPTER = "lampkit_adapter.json"


def adapter_base(folder: str | Path, field: str = "adapter") -> str:
    """The base model an adapter folder was trained on; a LampkitError naming ``field`` where it is no PEFT
    adapter folder."""
    folder = Path(folder)
    config = folder / "adapter_config.json"
    if not config.is_file():
        raise LampkitError("no PEFT adapter here (adapter_config.json is missing)", file=folder, field=field)
    own = folder / LAMPKIT_ADAPTER
    if own.is_file():
        return json.loads(own.read_text())["base_model"]
    return json.loads(config.read_text()).get("base_model_name_or_path") or ""


def same_model(a: str, b: str) -> bool:
    """Whether two names of a base model (the embedded name, a repo id, a folder) are one model."""
    from ..modeling import resolve_model

    if a == b:
        return True
    try:
        return Path(resolve_model(a)).resolve() == Path(resolve_model(b)).resolve()
    except LampkitError:
        return False


def check_adapter_base(folder: str | Path, model_name_or_path: str, field: str = "adapter") -> None:
    """Refuse an adapter trained on another base model than ``model_name_or_path`` (``field``: the option that
    names the adapter)."""
    base = adapter_base(folder, field)
    if base and not same_model(base, model_name_or_path):
        raise LampkitError(f"adapter was trained on {base!r}, not on model_name_or_path {model_name_or_path!r}",
                           file=folder, field="model_name_or_path")


def write_adapter_record(folder: str | Path, base_model: str, **extra) -> None:
    """Record the base model's given name (and ``extra`` training facts) in the adapter folder."""
    record = {"base_model": base_model, **extra}
    (Path(folder) / LAMPKIT_ADAPTER).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
