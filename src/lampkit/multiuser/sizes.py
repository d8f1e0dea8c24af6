"""Bytes of per-user state on disk for each adapter method, computed from a model config (no weights needed).

>>> cfg = dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
...            num_key_value_heads=32)
>>> bytes_per_user("lora", cfg, dtype_bytes=4) / 1e6  # Llama-2-7B, r=8 on q/v, float32 (OPPU's ~17 MB)
16.777216
>>> bytes_per_user("vera", cfg, dtype_bytes=4) / 1e6  # the per-user vectors of VeRA r=8 on q/v
1.050624
"""

from __future__ import annotations

from collections.abc import Mapping


def _out_features(cfg: Mapping, name: str) -> tuple[int, int]:
    hidden, inter = cfg["hidden_size"], cfg["intermediate_size"]
    head = cfg.get("head_dim") or hidden // cfg["num_attention_heads"]
    kv = cfg.get("num_key_value_heads") or cfg["num_attention_heads"]
    shapes = {"q_proj": (hidden, cfg["num_attention_heads"] * head), "k_proj": (hidden, kv * head),
              "v_proj": (hidden, kv * head), "o_proj": (cfg["num_attention_heads"] * head, hidden),
              "gate_proj": (hidden, inter), "up_proj": (hidden, inter), "down_proj": (inter, hidden)}
    return shapes[name]


def bytes_per_user(method: str, cfg: Mapping, *, r: int = 8, targets: tuple[str, ...] | None = None,
                   feedforward: tuple[str, ...] = ("down_proj",), num_virtual_tokens: int = 20,
                   with_projection: bool = False, dtype_bytes: int = 4) -> int:
    """Per-user tensor bytes of ``method`` on a Llama-style ``cfg`` (a config dict): ``lora`` (r on q/v),
    ``ia3`` (PEFT's Llama default k/v/down, down scaling its input), ``vera`` (per-user vectors only: the shared
    random projections are stored once; ``with_projection`` adds them, as PEFT's default ``save_projection``
    writes them into every adapter file), ``prompt_tuning`` (or ``prompt``: ``num_virtual_tokens`` embeddings)."""
    layers = cfg["num_hidden_layers"]
    if method in ("prompt", "prompt_tuning"):
        return num_virtual_tokens * cfg["hidden_size"] * dtype_bytes
    defaults = {"lora": ("q_proj", "v_proj"), "ia3": ("k_proj", "v_proj", "down_proj"), "vera": ("q_proj", "v_proj")}
    if method not in defaults:
        raise ValueError(f"unknown method {method!r}; known: lora, ia3, vera, prompt_tuning")
    total = 0
    shapes = [_out_features(cfg, name) for name in targets or defaults[method]]
    for name, (fan_in, fan_out) in zip(targets or defaults[method], shapes):
        if method == "lora":
            total += r * (fan_in + fan_out)
        elif method == "ia3":
            total += fan_in if name in feedforward else fan_out
        else:
            total += r + fan_out  # lambda_d (r) and lambda_b (out)
    total *= layers
    if method == "vera" and with_projection:  # A (r × largest in) and B (largest out × r), once per file
        total += r * (max(i for i, _ in shapes) + max(o for _, o in shapes))
    return total * dtype_bytes
