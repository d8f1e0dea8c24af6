"""Load a model and its tokenizer by name: the embedded default, a local folder, or a Hub repo id (with revision)."""

from __future__ import annotations

from pathlib import Path

from ..errors import LampkitError
from .embedded import EMBEDDED_MODEL
from .embedded import embedded_model_path


def resolve_model(name_or_path: str, marker: str = "config.json") -> str:
    """A path or Hub repo id that ``from_pretrained`` takes: the embedded name becomes its cached folder; a local
    path must hold ``marker`` (a tokenizer-only folder has ``tokenizer_config.json``, no ``config.json``)."""
    if name_or_path == EMBEDDED_MODEL:
        return str(embedded_model_path())
    path = Path(name_or_path).expanduser()
    looks_local = name_or_path.startswith((".", "/", "~")) or path.exists() or name_or_path.count("/") > 1
    if looks_local:
        if not (path / marker).is_file():
            what = "tokenizer" if marker.startswith("tokenizer") else "model"
            raise LampkitError(f"no {what} folder ({marker}) here", file=path, field="model_name_or_path")
        return str(path)
    return name_or_path


def _config(name_or_path: str, revision: str | None):
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(resolve_model(name_or_path), revision=revision)
    except LampkitError:
        raise
    except (OSError, ValueError) as exc:
        raise LampkitError(f"cannot load a model config: {str(exc).splitlines()[0]}", file=name_or_path,
                           field="model_name_or_path") from None


def is_seq2seq(name_or_path: str, revision: str | None = None) -> bool:
    """Whether the model is an encoder-decoder (T5, FlanT5), read from its config."""
    return bool(getattr(_config(name_or_path, revision), "is_encoder_decoder", False))


def load_tokenizer(name_or_path: str, revision: str | None = None, padding_side: str = "left"):
    """The model's tokenizer, with a pad token (EOS where none is set) and left padding for batched generation."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(resolve_model(name_or_path, "tokenizer_config.json"),
                                                  revision=revision)
    except LampkitError:
        raise
    except (OSError, ValueError) as exc:
        raise LampkitError(f"cannot load a tokenizer: {str(exc).splitlines()[0]}", file=name_or_path,
                           field="model_name_or_path") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = padding_side
    return tokenizer


def load_model(name_or_path: str, revision: str | None = None, dtype: str = "float32"):
    """The model, causal or encoder-decoder as its config says, in ``dtype`` (``float32``, ``bfloat16``, ...)."""
    import torch
    from transformers import AutoModelForCausalLM
    from transformers import AutoModelForSeq2SeqLM

    cls = AutoModelForSeq2SeqLM if is_seq2seq(name_or_path, revision) else AutoModelForCausalLM
    try:
        return cls.from_pretrained(resolve_model(name_or_path), revision=revision, dtype=getattr(torch, dtype))
    except (OSError, ValueError) as exc:
        raise LampkitError(f"cannot load the model: {str(exc).splitlines()[0]}", file=name_or_path,
                           field="model_name_or_path") from None
