"""Score the utility of each of the first ``num_items`` profile items of every question for the reader: the prompt
holds only that item, the output is scored with the official metrics (ROPG feedback; the originals'
``LaMP-Benchmark/LaMP:LaMP/profile_item_utilization_scorer.py``, batched). Resumable: a rerun with the same
``work_dir`` and settings scores only what is missing (other settings start it over); ``accelerate launch`` splits
the prompts across processes.

    accelerate launch recipes/score_profile_items.py --config recipes/score_profile_items.yaml
    python recipes/score_profile_items.py --config recipes/score_profile_items_tiny.yaml --output_dir out/x
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
class ScoreItemsArguments:
    # data
    dataset_name: str = field(metadata={"help": "a folder written by `lampkit build`, or its Hub repo id"})
    dataset_config: str = field(metadata={"help": "config, e.g. LaMP_3_time"})
    output_dir: str = field(metadata={"help": "where the feedback dataset folder is written"})
    split: str = "train"
    max_questions: int | None = None
    ranking: str = field(default="ranking_bm25", metadata={"help": "ranking column giving the items' order"})
    num_items: int = field(default=20, metadata={"help": "score the first N items of each question"})
    utility_metric: str | None = field(default=None, metadata={"help": "default: accuracy, MAE→reward, rouge-1"})
    prompt_max_length: int = 512
    # run
    use_cpu: bool = field(default=False, metadata={"help": "CPU processes even where there is a GPU"})
    work_dir: str | None = field(default=None, metadata={"help": "resume folder (default: <output_dir>.work)"})


def main(argv: list[str] | None = None) -> int:
    args, model_args, decoding_args, push = parse_recipe_args(
        (ScoreItemsArguments, ModelArguments, DecodingArguments, FolderPushArguments), argv)
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
    from lampkit.ropg.feedback import check_items
    from lampkit.ropg.feedback import load_questions
    from lampkit.ropg.feedback import load_reader
    from lampkit.ropg.feedback import score_items
    from lampkit.ropg.folders import write_scores
    from lampkit.ropg.utility import utility_metric

    split, task = load_questions(args.dataset_name, args.dataset_config, args.split, args.max_questions)
    check_items(split, args.ranking, args.num_items, args.dataset_name)
    metric = utility_metric(task.name, args.utility_metric)
    reader = load_reader(model_args, decoding_args, max_length=args.prompt_max_length)
    meta = {"kind": "item_scores", "task": task.name, "config": args.dataset_config, "dataset": args.dataset_name,
            "ranking": args.ranking, "num_items": args.num_items, "utility_metric": metric,
            "num_questions": len(split), **reader.metadata()}
    work = Path(args.work_dir or f"{args.output_dir}.work")
    records, _ = score_items(split, task, reader, ranking=args.ranking, num_items=args.num_items, work_dir=work,
                             settings={**meta, "split": args.split}, metric=metric)
    if records is None:  # not the main process
        return 0
    rows = [{k: v for k, v in r.items() if k != "key"} for r in records]
    out = write_scores(rows, args.output_dir, meta, args.split)
    print(f"wrote {len(rows)} item scores of {len(split)} questions to {out}")
    push.push(out, repo_type="dataset")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LampkitError as err:
        sys.exit(f"score_profile_items: error: {err}")
