"""Peak memory of ``lampkit build`` on a LaMP-4-sized raw train file, against a plain ``json.load`` of it.

    .venv/bin/python bench/bench_build_memory.py [--mb 820] [--workdir bench/_work]

Writes a synthetic LaMP-4-like mirror (train_questions.json of at least ``--mb`` MB, small dev/test files),
then, each in a fresh process, (1) ``json.load``s the train file and (2) builds ``LaMP_4_user`` from the mirror
with an empty cache. Prints both peak RSS figures and their ratio; the target is a build under 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ("the of and to in a is that for on with as was by at from said his it an be are has have were "
         "government city council report police market company year percent million people state federal "
         "school health officials new week plan vote election court case study team season game players "
         "record prices energy climate water local national president minister public support growth").split()
INPUT = "Generate a headline for the following article: "


def _text(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choices(WORDS, k=n_words)).capitalize() + "."


def write_mirror(root: Path, target_mb: int) -> Path:
    """Write the mirror; train questions until the file reaches ``target_mb`` MB. Returns the train file."""
    rng = random.Random(0)
    for split in ("train", "dev", "test"):
        (root / "LaMP_4" / split).mkdir(parents=True, exist_ok=True)
    train = root / "LaMP_4" / "train" / "train_questions.json"

    def question(qid: int) -> dict:
        profile = [{"id": f"{qid}_{j}", "text": _text(rng, rng.randint(20, 80)), "title": _text(rng, 9),
                    "date": f"{rng.randint(2012, 2018)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"}
                   for j in range(rng.randint(100, 300))]
        return {"id": str(qid), "input": INPUT + _text(rng, rng.randint(150, 400)), "profile": profile}

    golds, qid = {}, 0
    with open(train, "w", encoding="utf-8") as f:
        f.write("[")
        while f.tell() < target_mb * 2**20:
            f.write(("," if qid else "") + json.dumps(question(qid)))
            golds[str(qid)] = _text(rng, 9)
            qid += 1
        f.write("]")
    _write_outputs(root / "LaMP_4" / "train" / "train_outputs.json", golds)
    for split, ids in (("dev", range(qid, qid + 20)), ("test", range(qid + 20, qid + 40))):
        qs = [question(i) for i in ids]
        (root / "LaMP_4" / split / f"{split}_questions.json").write_text(json.dumps(qs), encoding="utf-8")
        if split == "dev":
            _write_outputs(root / "LaMP_4" / "dev" / "dev_outputs.json", {q["id"]: _text(rng, 9) for q in qs})
    return train


def _write_outputs(path: Path, golds: dict) -> None:
    path.write_text(json.dumps({"task": "LaMP_4", "golds": [{"id": k, "output": v} for k, v in golds.items()]}))


PEAK = "import resource; print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"


def peak_rss_mb(code: str) -> tuple[float, float]:
    """Run ``code`` in a fresh interpreter; returns (peak RSS in MB, seconds)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", f"{code}\n{PEAK}"], check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    kb = next(int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("PEAK_KB"))
    return kb / 1024, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=820)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="lampkit-bench-"))
    mirror = work / "mirror"
    train = mirror / "LaMP_4" / "train" / "train_questions.json"
    if not train.is_file() or train.stat().st_size < args.mb * 2**20:
        start = time.perf_counter()
        write_mirror(mirror, args.mb)
        print(f"wrote {train} ({train.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - start:.0f}s")
    size = train.stat().st_size / 2**20

    baseline, t_base = peak_rss_mb(f"import json; json.load(open({str(train)!r}, encoding='utf-8'))")
    build, t_build = peak_rss_mb(
        "from lampkit.build import BuildOptions, build\n"
        f"build('lamp', ['LaMP_4_user'], {str(work / 'out')!r}, "
        f"BuildOptions(data_dir={str(mirror)!r}, cache_dir=__import__('tempfile').mkdtemp(dir={str(work)!r})))"
    )
    print(f"train_questions.json: {size:.0f} MB")
    print(f"json.load peak RSS:      {baseline:8.0f} MB  ({t_base:.0f}s)")
    print(f"lampkit build peak RSS:  {build:8.0f} MB  ({t_build:.0f}s)")
    print(f"ratio build/json.load:   {build / baseline:8.2f}")
    print(f"target build < 1536 MB:  {'PASS' if build < 1536 else 'FAIL'}")


if __name__ == "__main__":
    main()
