"""The main job on the shipped sample, on CPU (``make demo`` runs it after building ``out/lamp``):

1. zero-shot generation with the embedded SmolLM2-135M-Instruct (converted from its GGUF on first use);
2. a LoRA task adapter trained by ``sft_task.py`` and pushed to a Hub;
3. generation with that adapter pulled back from the Hub by repo id;
4. the scores side by side (``report.md``) and the per-user plot (``per_user.png``).

The "Hub" here is a stand-in: ``tests/hub_server.py``'s HubServer, a small Hub-protocol server on 127.0.0.1 that
the real ``huggingface_hub`` client pushes to and pulls from. With a real token and no ``HF_ENDPOINT`` the same
recipes push to huggingface.co.

    python recipes/demo.py [--data out/lamp] [--out out/demo]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPO_ID = "lampkit-demo/smollm2-lamp3-lora"


def _hub_server():
    spec = importlib.util.spec_from_file_location("lampkit_hub_server", ROOT / "tests" / "hub_server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(step: str, script: str, *args: str, env: dict) -> None:
    print(f"\n== {step}", flush=True)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "recipes" / script), *args], env=env, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"demo: {step} failed (exit {proc.returncode})")
    print(f"== {step}: {time.perf_counter() - started:.0f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="out/lamp", help="the built LaMP sample (lampkit build ... --out)")
    parser.add_argument("--out", default="out/demo")
    args = parser.parse_args(argv)
    data, out = Path(args.data), Path(args.out)
    if not (data / "lampkit.json").is_file():
        sys.exit(f"demo: error: {data}: no built dataset here; run `make demo` (or lampkit build lamp ...) first")
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    hub_module = _hub_server()
    server = hub_module.HubServer(out / "local_hub").start()
    token = next(iter(hub_module.DEFAULT_TOKENS))
    print(f"demo: a local Hub-protocol server on {server.url} stands in for the Hugging Face Hub "
          f"(repos stored under {out / 'local_hub'})")
    env = dict(os.environ, HF_ENDPOINT=server.url, HF_HOME=str((out / "hf_home").resolve()), HF_TOKEN=token,
               HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1", TOKENIZERS_PARALLELISM="false")
    common = ["--dataset_name", str(data)]
    try:
        run("1/3 zero-shot generation (SmolLM2-135M-Instruct, k=1 BM25)", "generate.py", "--config",
            "recipes/generate.yaml", *common, "--output_dir", str(out / "zero-shot"), "--run_name", "zero-shot",
            env=env)
        run("2/3 task adapter (LoRA, sft_task) pushed to the local Hub", "sft_task.py", "--config",
            "recipes/sft_task.yaml", *common, "--output_dir", str(out / "task-adapter"), "--push_adapter", "true",
            "--adapter_repo_id", REPO_ID, env=env)
        run(f"3/3 generation with {REPO_ID} pulled back from the local Hub", "generate.py", "--config",
            "recipes/generate.yaml", *common, "--adapter", REPO_ID, "--output_dir", str(out / "with-adapter"),
            "--run_name", "task adapter (from Hub)", "--compare", str(out / "zero-shot" / "results.json"), env=env)
    finally:
        server.stop()
    final = out / "with-adapter"
    print("\n" + (final / "report.md").read_text())
    print(f"demo: done in {time.perf_counter() - started:.0f} s. Outputs:")
    for label, path in [
        ("zero-shot predictions", out / "zero-shot" / "predictions.json"),
        ("zero-shot result record", out / "zero-shot" / "results.json"),
        ("task adapter (with card README.md)", out / "task-adapter" / "adapter"),
        ("task adapter predictions", out / "task-adapter" / "predictions.json"),
        ("adapter-from-Hub predictions", final / "predictions.json"),
        ("adapter-from-Hub result record", final / "results.json"),
        ("scores side by side", final / "report.md"),
        ("per-user plot", final / "per_user.png"),
        ("local Hub repos", out / "local_hub"),
    ]:
        print(f"  {label:38s} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
