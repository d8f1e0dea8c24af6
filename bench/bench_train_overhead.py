"""Training overhead of ``recipes/sft_task.py`` on the sample: the recipe prints the time inside optimizer steps
beside the time outside them (imports, data and prompts, model load, trainer set-up, generation, save, card); this
script runs it and adds the process's own start-up (interpreter and imports) measured from outside.

    python bench/bench_train_overhead.py --data out/lamp -- --max_steps 6
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="out/lamp")
    parser.add_argument("--out", default="out/bench/sft_task")
    parser.add_argument("extra", nargs="*", help="overrides passed to sft_task.py (after --)")
    args = parser.parse_args()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "recipes" / "sft_task.py"), "--config",
                           str(ROOT / "recipes" / "sft_task.yaml"), "--dataset_name", args.data, "--output_dir",
                           args.out, *args.extra], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(proc.stderr[-2000:])
    line = next(x for x in proc.stdout.splitlines() if "time in optimizer steps" in x)
    steps = float(re.search(r"time in optimizer steps ([\d.]+) s", line).group(1))
    print(line)
    print(f"whole process {wall:.1f} s: in optimizer steps {steps:.1f} s, outside {wall - steps:.1f} s "
          f"(ratio outside/in {(wall - steps) / steps:.2f})")


if __name__ == "__main__":
    main()
