"""For each retriever of a pool (``none``, ranking columns of the built data, dense model folders such as trained
ROPG retrievers), the reader's output on every question's top-``k`` prompt and its official metrics (RSPG feedback;
the originals' ``LaMP-Benchmark/LaMP:LaMP/retriever_utilization_scorer.py``, batched). Resumable; ``accelerate
launch`` splits the prompts across processes.

    accelerate launch recipes/score_retrievers.py --config recipes/score_retrievers.yaml
    python recipes/score_retrievers.py --config recipes/score_retrievers_tiny.yaml --pool none bm25 out/ropg-kd
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from lampkit.errors import LampkitError
from lampkit.recipe_args import DecodingArguments
from lampkit.recipe_args import FolderPushArguments
from lampkit.recipe_args import ModelArguments
from lampkit.recipe_args import check_count
from lampkit.recipe_args import check_decoding
from lampkit.recipe_args import parse_recipe_args


@dataclass
class ScoreRetrieversArguments:
    # data
    dataset_name: str = field(metadata={"help": "a folder written by `lampkit build`, or its Hub repo id"})
    dataset_config: str = field(metadata={"help": "config, e.g. LaMP_3_time"})
    output_dir: str = field(metadata={"help": "where the retriever-scores dataset folder is written"})
    split: str = "train"
    max_questions: int | None = None
    pool: list[str] = field(default_factory=lambda: ["none", "bm25", "recency"],
                            metadata={"help": "none, ranking columns (bm25, ranking_ropg_kd) or model folders"})
    k: int = field(default=4, metadata={"help": "profile items per prompt"})
    use_date: bool = field(default=False, metadata={"help": "documents of model folders get ' date: {date}'"})
    utility_metric: str | None = None
    prompt_max_length: int = 256
    # run
    use_cpu: bool = field(default=False, metadata={"help": "CPU processes even where there is a GPU"})
    work_dir: str | None = field(default=None, metadata={"help": "resume folder (default: <output_dir>.work)"})


def main(argv: list[str] | None = None) -> int:
    args, model_args, decoding_args, push = parse_recipe_args(
        (ScoreRetrieversArguments, ModelArguments, DecodingArguments, FolderPushArguments), argv)
    push.check()
    from lampkit.paths import check_replaced_dir
    from lampkit.ropg.folders import SCORE_FOLDER

    check_decoding(decoding_args)
    check_count(args.max_questions, "max_questions")
    check_count(args.prompt_max_length, "prompt_max_length")
    check_replaced_dir(args.output_dir, writes=SCORE_FOLDER, inputs=[("dataset_name", args.dataset_name)],
                       dataset=True)
    from accelerate import PartialState

    PartialState(cpu=args.use_cpu)  # the process group the scoring is split over
    from lampkit.ropg.feedback import load_questions
    from lampkit.ropg.feedback import load_reader
    from lampkit.ropg.feedback import score_pool
    from lampkit.ropg.folders import write_scores
    from lampkit.ropg.pool import resolve_pool
    from lampkit.ropg.utility import utility_metric

    if args.k < 1:
        raise LampkitError(f"k must be 1 or more, got {args.k}", field="k")
    split, task = load_questions(args.dataset_name, args.dataset_config, args.split, args.max_questions)
    split, pool = resolve_pool(split, task, args.pool, use_date=args.use_date, data_source=args.dataset_name)
    metric = utility_metric(task.name, args.utility_metric)
    reader = load_reader(model_args, decoding_args, max_length=args.prompt_max_length)
    meta = {"kind": "retriever_scores", "task": task.name, "config": args.dataset_config,
            "dataset": args.dataset_name, "pool": [r.metadata() for r in pool], "k": args.k,
            "utility_metric": metric, "num_questions": len(split), **reader.metadata()}
    work = Path(args.work_dir or f"{args.output_dir}.work")
    records, _ = score_pool(split, task, reader, pool, k=args.k, work_dir=work, settings={**meta, "split": args.split},
                            metric=metric)
    if records is None:
        return 0
    rows = [{k: v for k, v in r.items() if k != "key"} for r in records]
    out = write_scores(rows, args.output_dir, meta, args.split)
    print(f"wrote {len(rows)} outputs of {len(pool)} retrievers ({', '.join(r.name for r in pool)}) to {out}")
    push.push(out, repo_type="dataset")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LampkitError as err:
        sys.exit(f"score_retrievers: error: {err}")
