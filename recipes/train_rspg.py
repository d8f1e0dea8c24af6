"""RSPG: train a selector (a small encoder and a linear head) that picks a retriever of the pool per question, from
``score_retrievers.py`` outputs (``mode: pre`` reads the prompts, ``post`` prompts and outputs), then pick for the
evaluation questions and write the official-format predictions, scored with lamp_eval, and a result record naming
every retriever of the pool (``LaMP-Benchmark/LaMP:RSPG/``).

    python recipes/train_rspg.py --config recipes/train_rspg.yaml
    python recipes/train_rspg.py --config recipes/train_rspg_tiny.yaml \
        --train_scores out/scores-train --eval_scores out/scores-validation
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from lampkit.errors import LampkitError
from lampkit.recipe_args import FolderPushArguments
from lampkit.recipe_args import check_above
from lampkit.recipe_args import check_count
from lampkit.recipe_args import parse_recipe_args


@dataclass
class RspgArguments:
    # data
    train_scores: list[str] = field(metadata={"help": "retriever-score folders (one pool) to train on"})
    eval_scores: list[str] = field(metadata={"help": "the same pool's scores on the questions to predict"})
    output_dir: str = field(metadata={"help": "selector/, predictions.json and results.json go here"})
    # selector
    selector_name_or_path: str = "allenai/longformer-base-4096"
    mode: str = field(default="pre", metadata={"help": "pre: prompts; post: prompts and outputs"})
    max_length: int = 512
    # training
    temperature: float = 1.0
    steps: int = 1000
    learning_rate: float = 1e-5
    batch_size: int = 1
    seed: int = 0


def main(argv: list[str] | None = None) -> int:
    args, push = parse_recipe_args((RspgArguments, FolderPushArguments), argv)
    push.check()
    from lampkit.paths import check_replaced_dir

    check_replaced_dir(args.output_dir, writes=("selector", "predictions.json", "results.json"),
                       inputs=[*(("train_scores", f) for f in args.train_scores),
                               *(("eval_scores", f) for f in args.eval_scores)])
    from lampkit.predictions import run_record
    from lampkit.predictions import write_predictions
    from lampkit.ropg.folders import read_pool
    from lampkit.ropg.selector import MODES
    from lampkit.ropg.selector import Selector
    from lampkit.ropg.selector import pool_questions
    from lampkit.scoring import score
    from lampkit.scoring.files import write_json
    from lampkit.tasks import parse_config_name

    if args.mode not in MODES:
        raise LampkitError(f"mode must be pre or post, got {args.mode!r}", field="mode")
    for name in ("steps", "batch_size", "max_length"):
        check_count(getattr(args, name), name)
    check_above(args.learning_rate, "learning_rate")
    check_above(args.temperature, "temperature")
    train_rows, train_meta, pool = read_pool(args.train_scores)
    eval_rows, eval_meta, eval_pool = read_pool(args.eval_scores)
    for key in ("task", "config", "reader", "decoding", "k"):
        if eval_meta.get(key) != train_meta.get(key):
            raise LampkitError(f"eval scores have {key} {eval_meta.get(key)!r}, train scores "
                               f"{train_meta.get(key)!r}", file=args.eval_scores[0], field=key)
    if eval_pool != pool:
        raise LampkitError(f"eval pool {eval_pool} differs from the train pool {pool}", file=args.eval_scores[0],
                           field="pool")
    train = pool_questions(train_rows, pool, args.train_scores[0])
    evaluate = pool_questions(eval_rows, pool, args.eval_scores[0])
    task = train_meta["task"]
    settings = {"task": task, "config": train_meta["config"], "mode": args.mode, "pool": pool,
                "max_length": args.max_length, "temperature": args.temperature, "steps": args.steps,
                "learning_rate": args.learning_rate, "batch_size": args.batch_size, "seed": args.seed,
                "base_model": args.selector_name_or_path, "reader": train_meta["reader"]}
    selector = Selector.create(args.selector_name_or_path, settings)
    losses = selector.train(train, steps=args.steps, learning_rate=args.learning_rate, batch_size=args.batch_size,
                            temperature=args.temperature, seed=args.seed)
    out = Path(args.output_dir)
    selector.save(out / "selector")
    chosen = selector.select(evaluate)
    predictions = [q.outputs[c] for q, c in zip(evaluate, chosen)]
    ids, golds = [q.id for q in evaluate], [q.gold for q in evaluate]
    write_predictions(out / "predictions.json", task, ids, predictions)
    scored = all(g not in ("", None) for g in golds)
    extra = {"method": "RSPG", "mode": args.mode, "pool": eval_meta["pool"],
             "selected": dict(Counter(pool[c] for c in chosen).most_common()), "selector": settings,
             "final_loss": losses[-1] if losses else None,
             "per_retriever": {name: score(task, [q.outputs[i] for q in evaluate], golds)
                               for i, name in enumerate(pool)} if scored else None}
    record = run_record(task, predictions, golds, config=eval_meta["config"], split=eval_meta["split"],
                        split_kind=parse_config_name(eval_meta["config"])[1], model=eval_meta["reader"],
                        adapter=None, decoding=eval_meta["decoding"], ids=ids, extra=extra,
                        prompt={"k": eval_meta["k"], "prompt_max_length": eval_meta["prompt_max_length"]})
    write_json(out / "results.json", record)
    print(f"RSPG-{args.mode} over {', '.join(pool)}: predictions and results in {out}")
    push.push(out / "selector", repo_type="model")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LampkitError as err:
        sys.exit(f"train_rspg: error: {err}")
