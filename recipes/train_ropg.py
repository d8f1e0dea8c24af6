"""ROPG: train a dense retriever (sentence-transformers, Contriever-style mean pooling, dot product) from the item
utilities of ``score_profile_items.py``, by knowledge distillation (``objective: kd``) or policy gradient
(``objective: rl``) (``LaMP-Benchmark/LaMP:ROPG/``). The result ranks with
``lampkit build ... --rankers dense --dense-model <output_dir>``.

    accelerate launch recipes/train_ropg.py --config recipes/train_ropg.yaml --objective rl
    python recipes/train_ropg.py --config recipes/train_ropg_tiny.yaml --feedback out/items --output_dir out/ropg-kd
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field

from lampkit.errors import LampkitError
from lampkit.recipe_args import FolderPushArguments
from lampkit.recipe_args import check_above
from lampkit.recipe_args import check_count
from lampkit.recipe_args import parse_recipe_args


@dataclass
class RopgArguments:
    # data
    feedback: str = field(metadata={"help": "item-scores folder written by score_profile_items.py"})
    dataset_name: str = field(metadata={"help": "the built data the feedback was scored on"})
    dataset_config: str = field(metadata={"help": "config, e.g. LaMP_3_time"})
    output_dir: str = field(metadata={"help": "where the trained retriever is saved"})
    split: str = "train"
    ctx_size: int = field(default=20, metadata={"help": "items per question the distributions cover"})
    use_date: bool = field(default=False, metadata={"help": "documents get ' date: {date}' (the originals did)"})
    # retriever
    retriever_name_or_path: str = "facebook/contriever"
    max_length: int = 512
    # training
    objective: str = field(default="kd", metadata={"help": "kd or rl"})
    temperature: float = 1.0
    double_softmax: bool = field(default=False, metadata={"help": "the original train_kd.py's double softmax"})
    steps: int = 1000
    learning_rate: float = 1e-5
    batch_size: int = 1
    warmup_steps: int = 0
    max_grad_norm: float = 1.0
    seed: int = 0
    use_cpu: bool = False


def main(argv: list[str] | None = None) -> int:
    args, push = parse_recipe_args((RopgArguments, FolderPushArguments), argv)
    push.check()
    from lampkit.paths import check_replaced_dir
    from lampkit.ropg.retriever import TRAINING_RECORD

    check_replaced_dir(args.output_dir, marker=TRAINING_RECORD, inputs=[
        ("feedback", args.feedback), ("dataset_name", args.dataset_name),
        ("retriever_name_or_path", args.retriever_name_or_path)])
    from lampkit.ropg.feedback import load_questions
    from lampkit.ropg.folders import check_same_data
    from lampkit.ropg.folders import read_scores
    from lampkit.ropg.retriever import OBJECTIVES
    from lampkit.ropg.retriever import TrainSettings
    from lampkit.ropg.retriever import examples_from_feedback
    from lampkit.ropg.retriever import load_retriever
    from lampkit.ropg.retriever import save_retriever
    from lampkit.ropg.retriever import train_retriever

    if args.objective not in OBJECTIVES:
        raise LampkitError(f"objective must be kd or rl, got {args.objective!r}", field="objective")
    for name in ("steps", "batch_size", "max_length"):
        check_count(getattr(args, name), name)
    check_count(args.warmup_steps, "warmup_steps", zero=True)
    check_above(args.learning_rate, "learning_rate")
    check_above(args.temperature, "temperature")
    check_above(args.max_grad_norm, "max_grad_norm", strict=False, note=" (0 turns clipping off)")
    feedback, meta = read_scores(args.feedback, "item_scores")
    split, task = load_questions(args.dataset_name, args.dataset_config, args.split)
    check_same_data(meta, args.feedback, task=task.name, config=args.dataset_config, split=args.split,
                    dataset=args.dataset_name)
    examples = examples_from_feedback(split, task, feedback, meta, ctx_size=args.ctx_size, use_date=args.use_date,
                                      feedback_source=args.feedback)
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=args.use_cpu)
    model = load_retriever(args.retriever_name_or_path, args.max_length, device=str(accelerator.device))
    settings = TrainSettings(objective=args.objective, steps=args.steps, learning_rate=args.learning_rate,
                             batch_size=args.batch_size, temperature=args.temperature,
                             double_softmax=args.double_softmax, warmup_steps=args.warmup_steps,
                             max_grad_norm=args.max_grad_norm, seed=args.seed)
    losses = train_retriever(model, examples, settings, accelerator)
    if not accelerator.is_main_process:
        return 0
    record = {"task": task.name, "config": args.dataset_config, "split": args.split, "feedback": args.feedback,
              "feedback_reader": meta["reader"], "base_model": args.retriever_name_or_path, "ctx_size": args.ctx_size,
              "use_date": args.use_date, "num_questions": len(examples), "processes": accelerator.num_processes,
              **asdict(settings), "final_loss": losses[-1] if losses else None}
    out = save_retriever(accelerator.unwrap_model(model), args.output_dir, record)
    print(f"trained ROPG-{args.objective.upper()} on {len(examples)} questions; saved {out}")
    push.push(out, repo_type="model")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LampkitError as err:
        sys.exit(f"train_ropg: error: {err}")
