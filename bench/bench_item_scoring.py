"""Item-utility scoring (ROPG feedback) with the embedded SmolLM2 reader on CPU: lampkit's batched (question, item)
prompts against the originals' one prompt per call (``LaMP-Benchmark/LaMP:LaMP/profile_item_utilization_scorer.py``
calls ``trainer.predict`` once per (question, item) sample).

    .venv/bin/python bench/bench_item_scoring.py [--config LaMP_3_time] [--questions 4] [--items 8] \
        [--batch-size 16] [--max-new-tokens 16] [--prompt-max-length 256]

Builds the shipped sample's config, makes every (question, item) prompt of the first ``--questions`` questions'
first ``--items`` BM25-ranked items, then times (1) one ``generate`` call and one scoring call per prompt and (2)
``lampkit.ropg.feedback.score_items`` (batched generation, resumable work folder) on the same prompts; checks the
outputs row by row and prints both times and the ratio (target >= 4x).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="LaMP_3_time")
    parser.add_argument("--questions", type=int, default=4)
    parser.add_argument("--items", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--prompt-max-length", type=int, default=256)
    args = parser.parse_args()

    from lampkit.build import BuildOptions
    from lampkit.build import build
    from lampkit.modeling import EMBEDDED_MODEL
    from lampkit.recipe_args import DecodingArguments
    from lampkit.recipe_args import ModelArguments
    from lampkit.ropg.feedback import item_prompt
    from lampkit.ropg.feedback import load_questions
    from lampkit.ropg.feedback import load_reader
    from lampkit.ropg.feedback import score_items
    from lampkit.scoring import score

    work = Path(tempfile.mkdtemp(prefix="bench-item-scoring-", dir=ROOT / "bench" / "_work"))
    try:
        data = build("lamp", [args.config], work / "lamp",
                     BuildOptions(data_dir=str(ROOT / "samples" / "lamp"), rankers=["bm25"], cache_dir=work / "cache"))
        split, task = load_questions(str(data), args.config, "train", args.questions)
        decoding = DecodingArguments(max_new_tokens=args.max_new_tokens, generation_batch_size=args.batch_size)
        reader = load_reader(ModelArguments(EMBEDDED_MODEL), decoding, max_length=args.prompt_max_length)
        pairs = [(row, i) for row in split for i in row["ranking_bm25"][:args.items]]

        single = replace(reader, batch_size=1)
        start = time.perf_counter()
        one_by_one = []
        for row, index in pairs:  # the originals: one sample per predict call
            output = single.generate([item_prompt(row, index, task, reader)])[0]
            score(task.name, [output], [row["output"]])
            one_by_one.append(output)
        baseline = time.perf_counter() - start

        start = time.perf_counter()
        records, _ = score_items(split, task, reader, ranking="ranking_bm25", num_items=args.items,
                                 work_dir=work / "scores", settings=vars(args))
        batched = time.perf_counter() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)
    outputs = [r["output"] for r in records]
    differ = [i for i, (a, b) in enumerate(zip(one_by_one, outputs)) if a != b]
    print(json.dumps({
        "prompts": len(pairs), "config": args.config, "reader": EMBEDDED_MODEL, "decoding": reader.decoding.as_dict(),
        "prompt_max_length": args.prompt_max_length, "batch_size": args.batch_size,
        "one_prompt_per_call_s": round(baseline, 2), "batched_s": round(batched, 2),
        "ratio": round(baseline / batched, 2), "same_outputs": not differ and len(outputs) == len(one_by_one),
        "differing_rows": differ,
    }, indent=2))


if __name__ == "__main__":
    main()
