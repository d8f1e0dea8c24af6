"""Peak memory of ``lampkit build longlamp`` at the size of the real abstract_generation_temporal train file (about
3 GB as JSON), beside ``pyarrow.parquet.read_table`` of the same rows as Parquet.

    .venv/bin/python bench/bench_longlamp_memory.py [--mb 3072] [--workdir bench/_work/longlamp]

Writes a synthetic ``abstract_generation_temporal`` config twice, in the upstream columns (``name``, ``input``,
``output``, ``profile[{id, title, abstract, year}]``): a JSON mirror (``train.json`` of at least ``--mb`` MB, small
``val``/``test``) and a Parquet mirror of the same rows (row groups of 64 rows, as ``push_to_hub`` writes shards).
Profiles hold 50 to 2,458 items (the real maximum) of lowercased, tokenized abstracts. Then, each in a fresh
process, it measures the peak RSS of (1) ``pyarrow.parquet.read_table`` of the Parquet train file, (2) a build from
the JSON mirror and (3) a build from the Parquet mirror, each with an empty cache, and prints them with their ratios
to (1). Target: both builds stay under (1), whose memory grows with the file.
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

WORDS = ("the of and to in a we is that for on with as by this paper method results propose show model data "
         "learning network performance approach problem based algorithm estimation direction - arrival ( doa ) , . "
         "signal array sensor robust sparse channel optimization framework experiments accuracy proposed").split()
CONFIG = "abstract_generation_temporal"
MAX_PROFILE = 2458
ROW_GROUP = 64


def _text(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choices(WORDS, k=n_words))


def _row(rng: random.Random, n: int) -> dict:
    size = MAX_PROFILE if n % 50 == 0 else rng.randint(50, 400)
    profile = [{"id": f"{n:07d}{j:04d}", "title": _text(rng, 10), "abstract": _text(rng, rng.randint(80, 200)),
                "year": rng.randint(1990, 2020)} for j in range(size)]
    items = "\n".join(f"{i}. {_text(rng, 2)}" for i in range(1, 4))
    return {"name": f"author {n}", "input": f'Generate an abstract for the title "{_text(rng, 9)}" using the '
            f"following items:\n{items}", "output": _text(rng, 180).capitalize(), "profile": profile}


def write_mirrors(work: Path, target_mb: int) -> tuple[Path, Path]:
    """Write the JSON and Parquet mirrors; returns their roots."""
    import pyarrow
    import pyarrow.parquet

    item = pyarrow.struct([("id", pyarrow.string()), ("title", pyarrow.string()), ("abstract", pyarrow.string()),
                           ("year", pyarrow.int64())])
    schema = pyarrow.schema([("name", pyarrow.string()), ("input", pyarrow.string()), ("output", pyarrow.string()),
                             ("profile", pyarrow.list_(item))])
    json_root, parquet_root = work / "json", work / "parquet"
    for root in (json_root, parquet_root):
        (root / CONFIG).mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    n = 0
    for split, limit in (("train", target_mb * 2**20), ("val", 2**20), ("test", 2**20)):
        writer = pyarrow.parquet.ParquetWriter(parquet_root / CONFIG / f"{split}-00000-of-00001.parquet", schema)
        batch = []
        with open(json_root / CONFIG / f"{split}.json", "w", encoding="utf-8") as f:
            f.write("[")
            first = True
            while f.tell() < limit:
                row = _row(rng, n)
                n += 1
                f.write(("" if first else ",") + json.dumps(row))
                first = False
                batch.append(row)
                if len(batch) == ROW_GROUP:
                    writer.write_table(pyarrow.Table.from_pylist(batch, schema=schema))
                    batch = []
            f.write("]")
        if batch:
            writer.write_table(pyarrow.Table.from_pylist(batch, schema=schema))
        writer.close()
    return json_root, parquet_root


PEAK = "import resource; print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"


def peak_rss_mb(code: str) -> tuple[float, float]:
    """Run ``code`` in a fresh interpreter; returns (peak RSS in MB, seconds)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", f"{code}\n{PEAK}"], check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    kb = next(int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("PEAK_KB"))
    return kb / 1024, seconds


def _build_code(root: Path, work: Path, out: str) -> str:
    return ("from lampkit.build import BuildOptions, build\n"
            f"build('longlamp', [{CONFIG!r}], {str(work / out)!r}, BuildOptions(data_dir={str(root)!r}, "
            f"cache_dir=__import__('tempfile').mkdtemp(dir={str(work)!r})))")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=3072)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="lampkit-bench-"))
    train_json = work / "json" / CONFIG / "train.json"
    train_parquet = work / "parquet" / CONFIG / "train-00000-of-00001.parquet"
    if not train_json.is_file() or train_json.stat().st_size < args.mb * 2**20 or not train_parquet.is_file():
        start = time.perf_counter()
        write_mirrors(work, args.mb)
        print(f"wrote {train_json} ({train_json.stat().st_size / 2**20:.0f} MB) and {train_parquet} "
              f"({train_parquet.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - start:.0f}s")
    json_mb, parquet_mb = train_json.stat().st_size / 2**20, train_parquet.stat().st_size / 2**20

    baseline, t_base = peak_rss_mb(f"import pyarrow.parquet as pq; t = pq.read_table({str(train_parquet)!r})")
    from_json, t_json = peak_rss_mb(_build_code(work / "json", work, "out_json"))
    from_parquet, t_parquet = peak_rss_mb(_build_code(work / "parquet", work, "out_parquet"))
    print(f"train: {json_mb:.0f} MB as JSON, {parquet_mb:.0f} MB as Parquet")
    print(f"pyarrow.parquet.read_table peak RSS: {baseline:8.0f} MB  ({t_base:.0f}s)")
    print(f"lampkit build from JSON peak RSS:    {from_json:8.0f} MB  ({t_json:.0f}s)  "
          f"ratio {from_json / baseline:.2f}")
    print(f"lampkit build from Parquet peak RSS: {from_parquet:8.0f} MB  ({t_parquet:.0f}s)  "
          f"ratio {from_parquet / baseline:.2f}")
    print(f"target both builds < read_table:     {'PASS' if max(from_json, from_parquet) < baseline else 'FAIL'}")


if __name__ == "__main__":
    main()
