"""Bytes per user on disk for LoRA r=8 q/v, IA3, VeRA and prompt tuning: measured on the embedded SmolLM2-135M
(a fresh adapter saved by lampkit.oppu's trainer), and the same figure computed for Llama-2-7B from its config
shape. The formula is checked against the measured SmolLM2 files first (the file adds only the safetensors
header), so the Llama-2-7B column is what its files would hold (fp32 adapter weights, PEFT's default).

    .venv/bin/python bench/bench_adapter_bytes.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

LLAMA2_7B = dict(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32,
                 intermediate_size=11008)
R, TOKENS, BYTES = 8, 8, 4  # rank, virtual tokens, fp32


def parameters(method: str, c: dict) -> int:
    """Adapter parameters from a Llama-style config: q/v LoRA and VeRA, PEFT's IA3 default (k, v, down_proj),
    prompt tuning's virtual token embeddings."""
    h, n = c["hidden_size"], c["num_hidden_layers"]
    kv = h // c["num_attention_heads"] * c["num_key_value_heads"]
    if method == "lora":
        return n * R * ((h + h) + (h + kv))
    if method == "ia3":
        return n * (kv + kv + c["intermediate_size"])
    if method == "vera":  # per layer lambda_d (r) and lambda_b (out); shared A (r x in) and B (out x r), saved
        return n * ((R + h) + (R + kv)) + R * h + max(h, kv) * R
    return TOKENS * h


def main() -> None:
    from lampkit.modeling import EMBEDDED_MODEL
    from lampkit.modeling import load_model
    from lampkit.modeling import load_tokenizer
    from lampkit.oppu.train import TrainSettings
    from lampkit.oppu.train import UserTrainer

    model = load_model(EMBEDDED_MODEL)
    config = model.config.to_dict()
    tokenizer = load_tokenizer(EMBEDDED_MODEL)
    rows = []
    for method in ("lora", "ia3", "vera", "prompt_tuning"):
        trainer = UserTrainer(model, tokenizer, TrainSettings(method=method, r=R, num_virtual_tokens=TOKENS))
        trainer._fresh_adapter("bench", 0)
        with tempfile.TemporaryDirectory() as tmp:
            trainer.save(Path(tmp))
            measured = (Path(tmp) / "adapter_model.safetensors").stat().st_size
        formula = parameters(method, config) * BYTES
        trainable = sum(p.numel() for p in trainer.peft.parameters() if p.requires_grad)
        model = trainer.peft.unload() if method != "prompt_tuning" else trainer.peft.base_model
        rows.append((method, trainable, formula, measured, parameters(method, LLAMA2_7B) * BYTES))
    print("| method | SmolLM2 trainable params | SmolLM2 formula bytes | SmolLM2 file bytes | Llama-2-7B bytes |")
    print("|---|---|---|---|---|")
    for method, trainable, formula, measured, llama in rows:
        print(f"| {method} | {trainable:,} | {formula:,} | {measured:,} | {llama:,} ({llama / 2**20:.2f} MiB) |")
        assert 0 <= measured - formula < 32768, (method, measured, formula)  # header only


if __name__ == "__main__":
    main()
