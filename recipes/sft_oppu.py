"""One PEFT Per User: a fresh adapter per user on that user's own history, from the task adapter merged into the
base (OPPU, ``TamSiuhin/OPPU:OPPU.py``) or from the base (LaMP's per-user PEFT,
``LaMP-Benchmark/LaMP:PEFT/train_peft.py``); written atomically per user, resumable, pushed private.

    accelerate launch recipes/sft_oppu.py --config recipes/oppu_demo.yaml
    accelerate launch --config_file recipes/accelerate_configs/multi_gpu.yaml recipes/sft_oppu.py \
        --config recipes/oppu_llama2_7b.yaml

Users are split across processes (accelerate ``split_between_processes``); each user's seed is
``lampkit.users.user_seed(seed, user)``, so the adapters do not depend on the number of processes. The processes
share nothing but the output folder (no gradient sync). Several CPU processes (gloo):

    accelerate launch --multi_gpu --num_processes 2 recipes/sft_oppu.py --config recipes/oppu_demo.yaml

(``accelerate launch --cpu --num_processes 2`` starts one process, which trains every user, unless ``mpirun``
is there: accelerate's simple launcher.)
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from dataclasses import field

from lampkit.errors import LampkitError
from lampkit.recipe_args import leave_process_group
from lampkit.recipe_args import parse_recipe_args

MODES = ("sequential", "batched")
log = logging.getLogger("lampkit.oppu")


@dataclass
class OppuArguments:
    # model
    model_name_or_path: str = field(default="lampkit/smollm2-135m-instruct")
    task_adapter: str | None = field(default=None, metadata={"help": "task adapter merged into the base (OPPU); "
                                                                     "left out: start from the base (LaMP PEFT)"})
    bf16: bool = False
    gradient_checkpointing: bool = False
    # PEFT
    peft_method: str = field(default="lora", metadata={"help": "lora, ia3, vera or prompt_tuning"})
    lora_r: int = 8
    lora_alpha: int = 8
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])
    num_virtual_tokens: int = 8
    prompt_tuning_init: str = field(default="random", metadata={"help": "prompt tuning's start: random (PEFT's) or "
                                                                        "sample_vocab (embeddings of random tokens)"})
    # data
    dataset_name: str = field(default="out/planted", metadata={"help": "a built folder or Hub dataset repo"})
    dataset_config: str = "LaMP_3_time"
    split: str = field(default="validation", metadata={"help": "the split whose users get adapters"})
    users: list[str] | None = field(default=None, metadata={"help": "only these user ids"})
    top_users: int | None = field(default=None, metadata={"help": "only the N users with the longest history"})
    pair_style: str = field(default="oppu", metadata={"help": "oppu (OPPU pairs) or peft (LaMP per-user PEFT)"})
    k: int = field(default=0, metadata={"help": "OPPU pairs: BM25 top-k of the user's earlier items"})
    max_length: int = 2048
    # trainer
    mode: str = field(default="sequential", metadata={"help": "sequential: one user after another; batched: many "
                                                              "users per step (lampkit.multiuser)"})
    batched_max_rows: int = field(default=64, metadata={"help": "mode batched: rows per step (users × batch)"})
    learning_rate: float = 1e-4
    num_train_epochs: int = 2
    per_device_train_batch_size: int = 16
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 0.3
    seed: int = 0
    output_dir: str = "out/oppu"
    user_salt: str = field(default="lampkit", metadata={"help": "salt of the user hashes (set a secret one)"})
    # hub
    push_to_hub: bool = False
    hub_org: str | None = None
    hub_prefix: str = "oppu"
    hub_layout: str = field(default="repo", metadata={"help": "repo: a private repo per user; folder: one repo"})
    hub_private: bool = True


def settings_of(args: OppuArguments):
    from lampkit.oppu.train import TrainSettings

    return TrainSettings(method=args.peft_method, r=args.lora_r, lora_alpha=args.lora_alpha,
                         lora_dropout=args.lora_dropout, target_modules=list(args.lora_target_modules),
                         num_virtual_tokens=args.num_virtual_tokens, prompt_tuning_init=args.prompt_tuning_init,
                         learning_rate=args.learning_rate,
                         num_train_epochs=args.num_train_epochs, batch_size=args.per_device_train_batch_size,
                         warmup_ratio=args.warmup_ratio, weight_decay=args.weight_decay,
                         max_grad_norm=args.max_grad_norm, max_length=args.max_length, seed=args.seed)


def process_state():
    """accelerate's ``PartialState``: on the CPU (``ACCELERATE_USE_CPU``, or no accelerator) processes started by
    ``accelerate launch --multi_gpu`` or ``torchrun`` join one gloo group (``PartialState()`` alone would make each
    of them a lone process training every user)."""
    import torch
    from accelerate import PartialState
    from accelerate.utils import parse_flag_from_env

    accelerator = torch.accelerator.is_available() if hasattr(torch, "accelerator") else torch.cuda.is_available()
    state = PartialState(cpu=parse_flag_from_env("ACCELERATE_USE_CPU") or not accelerator)
    if state.num_processes == 1 and "MASTER_PORT" in os.environ and "WORLD_SIZE" not in os.environ:
        log.warning("one process: accelerate launch --cpu starts one (without mpirun); for several CPU processes "
                    "use accelerate launch --multi_gpu --num_processes N (or torchrun)")
    return state


def run(args: OppuArguments) -> list[dict]:
    from lampkit.adapters.checks import check_adapter_base
    from lampkit.loading import load_built_split
    from lampkit.modeling import load_tokenizer
    from lampkit.modeling.peft_methods import check_prompt_init
    from lampkit.oppu import AdapterStore
    from lampkit.oppu import select_users
    from lampkit.oppu import user_rows
    from lampkit.oppu.card import render_user_card
    from lampkit.oppu.store import check_same_training
    from lampkit.oppu.store import check_store_folder
    from lampkit.oppu.train import METHODS
    from lampkit.oppu.train import UserTrainer
    from lampkit.oppu.train import load_start_model
    from lampkit.oppu.train import train_users
    from lampkit.prompts import user_training_pairs
    from lampkit.recipe_args import check_above
    from lampkit.recipe_args import check_between
    from lampkit.recipe_args import check_count
    from lampkit.recipe_args import check_peft_values
    from lampkit.tasks import parse_config_name

    if args.mode not in MODES:
        raise LampkitError(f"mode must be one of {', '.join(MODES)}, got {args.mode!r}", field="mode")
    if args.peft_method not in METHODS:
        raise LampkitError(f"unknown PEFT method {args.peft_method!r}; choose from {', '.join(METHODS)}",
                           field="peft_method")
    check_prompt_init(args.prompt_tuning_init)
    check_peft_values(args.lora_r, args.lora_alpha, args.lora_dropout, args.num_virtual_tokens)
    for name in ("top_users", "num_train_epochs", "per_device_train_batch_size", "max_length", "batched_max_rows"):
        check_count(getattr(args, name), name)
    check_count(args.k, "k", zero=True)
    if args.mode == "batched" and args.batched_max_rows < args.per_device_train_batch_size:
        raise LampkitError(f"batched_max_rows ({args.batched_max_rows}) is below per_device_train_batch_size "
                           f"({args.per_device_train_batch_size}): one user's batch would not fit a step",
                           field="batched_max_rows")
    check_above(args.learning_rate, "learning_rate")
    # a negative norm would flip every gradient, 0 would zero them
    check_above(args.max_grad_norm, "max_grad_norm", note=" (OPPU: 0.3)")
    check_above(args.weight_decay, "weight_decay", strict=False)
    check_between(args.warmup_ratio, "warmup_ratio", 0, 1)
    if args.task_adapter is not None:
        check_adapter_base(args.task_adapter, args.model_name_or_path, field="task_adapter")
    check_store_folder(args.output_dir, inputs=[("dataset_name", args.dataset_name),
                                                ("model_name_or_path", args.model_name_or_path),
                                                ("task_adapter", args.task_adapter)])
    if args.push_to_hub:
        from lampkit.hub import check_token
        from lampkit.oppu.hub import repo_id_for

        if not args.hub_org:
            raise LampkitError("push_to_hub needs hub_org", field="hub_org")
        repo_id_for("0" * 16, org=args.hub_org, prefix=args.hub_prefix, layout=args.hub_layout)
        check_token("push_to_hub")
    try:
        task, _ = parse_config_name(args.dataset_config)
    except KeyError as err:
        raise LampkitError(str(err.args[0]), field="dataset_config") from None
    try:  # an empty history: the pair style's own check (unknown style; a task it has no pairs for, e.g. LongLaMP)
        user_training_pairs([], task, style=args.pair_style, user_id="", question_id="", k=args.k)
    except LampkitError as err:
        raise LampkitError(err.message, field="pair_style" if err.field == "style" else err.field) from None
    settings, dtype = settings_of(args), "bfloat16" if args.bf16 else "float32"
    record = dict(task=task.name, base_model=args.model_name_or_path,
                  start=f"task adapter {args.task_adapter} merged into the base" if args.task_adapter else "the base",
                  method=args.peft_method, pair_style=args.pair_style, k=args.k, settings=settings.used(),
                  dtype=dtype)
    check_same_training(args.output_dir, record)  # complete users are skipped: only a like run may resume
    rows = load_built_split(args.dataset_name, args.dataset_config, args.split)
    users = select_users(user_rows(rows, task, rows.column_names), names=args.users, top=args.top_users,
                         source=f"{args.dataset_name} {args.dataset_config}/{args.split}")
    state = process_state()
    store = AdapterStore(args.output_dir, args.user_salt)
    tokenizer = load_tokenizer(args.model_name_or_path)
    model = load_start_model(args.model_name_or_path, args.task_adapter, dtype=dtype).to(state.device)
    trainer = UserTrainer(model, tokenizer, settings, gradient_checkpointing=args.gradient_checkpointing)

    def pairs_of(user):
        return user_training_pairs(user.profile, task, style=args.pair_style, user_id=user.user_id,
                                   question_id=user.question_id, seed=args.seed, k=args.k)

    with state.split_between_processes(users) as mine:
        if args.mode == "batched":
            from lampkit.multiuser.oppu import train_users_batched

            done = train_users_batched(mine, pairs_of, store, model, tokenizer, settings, record=record,
                                       card=render_user_card, max_rows=args.batched_max_rows,
                                       base_model=args.model_name_or_path)
        else:
            done = train_users(mine, pairs_of, store, trainer, record=record, card=render_user_card,
                               process_index=state.process_index if state.num_processes > 1 else None)
        if args.push_to_hub:
            from lampkit.oppu.hub import push_user_adapter

            for user in mine:
                if store.record(user.user_id) is not None:
                    push_user_adapter(store.folder(user.user_id), org=args.hub_org, prefix=args.hub_prefix,
                                      layout=args.hub_layout, private=args.hub_private)
    state.wait_for_everyone()
    leave_process_group()
    return done


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    for noisy in ("httpx", "huggingface_hub", "datasets"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        (args,) = parse_recipe_args((OppuArguments,), argv)
        run(args)
    except LampkitError as err:
        print(f"sft_oppu: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
