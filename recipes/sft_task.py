"""Task fine-tuning with retrieval-augmented prompts: one adapter for every user of a task, then generation on the
validation split, official-format predictions, lamp_eval scores, a result record and an adapter card.

Causal LMs train with ``trl.SFTTrainer`` on prompt/completion data (loss on the completion only; the prompt as a
chat turn where the model has a chat template, raw text otherwise: ``use_chat_template``); encoder-decoders (FlanT5,
``LaMP-Benchmark/LaMP:LaMP/train_llm.py``) with ``transformers.Seq2SeqTrainer`` and ``DataCollatorForSeq2Seq``,
behind the same config. ``k: 0`` is the non-personalised baseline. ``train_mode: profile_items`` trains on the
users' profile items as single examples instead (``FadyRezkGhattas/LaMP:1_finetune_llm.py``'s continual
fine-tuning, pairs from ``LaMP-Benchmark/LaMP:PEFT/data/datasets.py``).

    python recipes/sft_task.py --config recipes/sft_task.yaml
    python recipes/sft_task.py --config recipes/sft_task.yaml --k 0 --output_dir out/sft-k0
    accelerate launch --config_file recipes/accelerate_configs/multi_gpu.yaml recipes/sft_task.py \
        --config recipes/sft_task_flant5.yaml
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from pathlib import Path

from trl import SFTConfig

from lampkit.errors import LampkitError
from lampkit.recipe_args import TRAIN_MODES
from lampkit.recipe_args import AdapterHubArguments
from lampkit.recipe_args import DataArguments
from lampkit.recipe_args import DecodingArguments
from lampkit.recipe_args import ModelArguments
from lampkit.recipe_args import PeftArguments
from lampkit.recipe_args import leave_process_group
from lampkit.recipe_args import parse_recipe_args


@dataclass
class TaskArguments:
    # training data
    train_mode: str = field(default="questions", metadata={"help": "questions (RAG prompts) or profile_items"})
    # evaluation
    eval_from_saved: bool | None = field(default=None, metadata={
        "help": "generate from the adapter as saved, loaded back unsharded (default: when the trained weights are "
                "sharded, FSDP or DeepSpeed ZeRO-3, where the main process alone cannot run them)"})


#: What the recipe writes into output_dir (an existing output_dir holding anything else is refused).
OUTPUTS = ("adapter", "predictions.json", "results.json", "report.md", "per_user.png")
PARSER_TYPES = (ModelArguments, DataArguments, PeftArguments, DecodingArguments, AdapterHubArguments, TaskArguments,
                SFTConfig)


def check(model_args, data_args, peft_args, decoding_args, hub_args, task_args, training_args):
    """Every check that needs no model weights; returns (task, kind, seq2seq)."""
    from lampkit.paths import check_replaced_dir
    from lampkit.recipe_args import check_args
    from lampkit.recipe_args import check_trainer_numbers
    from lampkit.tasks import is_licensed

    task, kind, seq2seq = check_args(model_args, data_args, decoding_args, peft_args)
    if task_args.train_mode not in TRAIN_MODES:
        raise LampkitError(f"train_mode must be one of {', '.join(TRAIN_MODES)}, got {task_args.train_mode!r}",
                           field="train_mode")
    if task_args.train_mode == "profile_items" and task.pair is None:
        raise LampkitError(f"{task.name} has no per-item training pairs", field="train_mode")
    if hub_args.push_adapter and not hub_args.adapter_repo_id:
        raise LampkitError("push_adapter needs adapter_repo_id", field="adapter_repo_id")
    if hub_args.adapter_repo_id and not hub_args.push_adapter:  # it would be recorded as where the adapter is
        raise LampkitError("adapter_repo_id names where push_adapter pushes: add push_adapter true, or drop it",
                           field="adapter_repo_id")
    trainer_push = next((name for name in ("push_to_hub", "hub_model_id", "hub_token")
                         if getattr(training_args, name, None)), None)
    if trainer_push:  # the Trainer would push its checkpoint folder, or the value would go unused
        raise LampkitError("sft_task pushes the adapter with push_adapter and adapter_repo_id (token: HF_TOKEN or "
                           "`hf auth login`), not with the Trainer's push options", field=trainer_push)
    if hub_args.push_adapter:
        from lampkit.hub import check_repo_id
        from lampkit.hub import check_token

        check_repo_id(hub_args.adapter_repo_id, field="adapter_repo_id")
        check_token("push_adapter")
    if hub_args.adapter_revision is not None:
        from lampkit.hub import COMMIT_SHA

        if not hub_args.push_adapter:
            raise LampkitError("adapter_revision (the branch to push to) needs push_adapter", field="adapter_revision")
        if not hub_args.adapter_revision or COMMIT_SHA.fullmatch(hub_args.adapter_revision):
            raise LampkitError(f"a push goes to a branch name, not {hub_args.adapter_revision!r}",
                               field="adapter_revision")
    if hub_args.public and is_licensed(task):
        print(f"sft_task: warning: {task.name} is licensed data; pushing its adapter public as asked", file=sys.stderr)
    check_trainer_numbers(training_args)
    check_replaced_dir(training_args.output_dir, writes=OUTPUTS,
                       inputs=[("dataset_name", data_args.dataset_name),
                               ("model_name_or_path", model_args.model_name_or_path)])
    check_processes(training_args)
    return task, kind, seq2seq


def check_processes(training_args) -> None:
    """Several launched processes on a machine without an accelerator form one (gloo) group only with
    ``use_cpu``; without it each would train alone on all the data and every one would write ``output_dir``.
    FSDP runs on accelerators only: on CPU processes accelerate drops it without a word and trains with plain data
    parallelism, so such a launch is refused."""
    import os

    import torch

    from lampkit.recipe_args import launched_processes

    if os.environ.get("ACCELERATE_USE_FSDP", "false").lower() == "true" and (
            training_args.use_cpu or not torch.accelerator.is_available()):
        raise LampkitError("FSDP was launched on CPU processes, where accelerate would train with plain data "
                           "parallelism instead: on CPU launch with --multi_gpu (recipes/accelerate_configs/"
                           "multi_gpu.yaml with --use_cpu true)", field="use_cpu")
    world = launched_processes()
    if world > 1 and not training_args.use_cpu and not torch.accelerator.is_available():
        raise LampkitError(f"{world} processes launched on a machine without an accelerator: pass --use_cpu true "
                           "so that they train together (otherwise each trains alone and all write output_dir)",
                           field="use_cpu")


def profile_item_examples(dataset, task, seed: int) -> list[dict]:
    """Every training user's profile items as single prompt/completion pairs, each item once."""
    from lampkit.prompts import user_training_pairs

    user_col = task.user_column_in(dataset.column_names)
    seen, out = set(), []
    for row in dataset:
        user = row[user_col] if user_col else row["id"]
        for pair in user_training_pairs(row["profile"], task, style="peft", user_id=user, question_id=row["id"],
                                        seed=seed):
            key = (pair["prompt"], pair["completion"])
            if key not in seen:
                seen.add(key)
                out.append({"prompt": pair["prompt"], "completion": pair["completion"]})
    return out


def causal_rows(examples: list[dict], chat: bool) -> list[dict]:
    """TRL prompt/completion rows: conversational (chat template) or raw text (a space before the completion)."""
    if chat:
        return [{"prompt": [{"role": "user", "content": e["prompt"]}],
                 "completion": [{"role": "assistant", "content": e["completion"]}]} for e in examples]
    return [{"prompt": e["prompt"], "completion": e["completion"] if e["prompt"][-1:].isspace()
             else " " + e["completion"]} for e in examples]


def base_model_url(name: str) -> str:
    """The Hub page of the base model: the upstream of the embedded model, a repo id's page, or "" (a folder)."""
    from lampkit.modeling import EMBEDDED_MODEL

    if name == EMBEDDED_MODEL:
        return "https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct"
    return f"https://huggingface.co/{name}" if name.count("/") == 1 and not Path(name).exists() else ""


def seq2seq_arguments(training_args):
    """The same settings as ``Seq2SeqTrainingArguments`` (what ``Seq2SeqTrainer`` expects)."""
    from transformers import Seq2SeqTrainingArguments

    names = {f.name for f in fields(Seq2SeqTrainingArguments) if f.init}
    return Seq2SeqTrainingArguments(**{n: getattr(training_args, n) for n in names if hasattr(training_args, n)})


class StepTimer:
    """A ``TrainerCallback`` summing wall time inside optimizer steps (for the training-overhead benchmark)."""

    def __init__(self):
        from transformers import TrainerCallback

        timer = self

        class _Callback(TrainerCallback):
            def on_step_begin(self, args, state, control, **kwargs):
                timer._start = time.perf_counter()

            def on_step_end(self, args, state, control, **kwargs):
                timer.seconds += time.perf_counter() - timer._start

        self.seconds, self._start, self.callback = 0.0, 0.0, _Callback()


def train(model, tokenizer, examples, seq2seq: bool, chat: bool, data_args, training_args, timer):
    """Train ``model`` in place on ``examples`` (prompt/completion dicts); returns the trainer's train metrics."""
    import datasets

    if seq2seq:
        from transformers import DataCollatorForSeq2Seq
        from transformers import Seq2SeqTrainer

        raw = datasets.Dataset.from_list(examples)
        # LaMP's train_llm.py cuts source and target to the same max_length.
        tokenized = raw.map(lambda b: tokenizer(b["prompt"], text_target=b["completion"],
                                                max_length=data_args.prompt_max_length, truncation=True),
                            batched=True, remove_columns=raw.column_names)
        trainer = Seq2SeqTrainer(model=model, args=seq2seq_arguments(training_args), train_dataset=tokenized,
                                 data_collator=DataCollatorForSeq2Seq(tokenizer, model=model),
                                 processing_class=tokenizer, callbacks=[timer.callback])
    else:
        from trl import SFTTrainer

        trainer = SFTTrainer(model=model, args=training_args, processing_class=tokenizer,
                             train_dataset=datasets.Dataset.from_list(causal_rows(examples, chat)),
                             callbacks=[timer.callback])
    result = trainer.train()
    return trainer, result.metrics


def sharded(trainer) -> bool:
    """Whether the trained weights are split across processes (FSDP, DeepSpeed ZeRO-3)."""
    if getattr(trainer, "is_fsdp_enabled", False):
        return True
    plugin = getattr(trainer.accelerator.state, "deepspeed_plugin", None)
    return bool(getattr(trainer, "is_deepspeed_enabled", False) and plugin is not None and plugin.zero_stage == 3)


def load_saved(model_args, folder: Path, full: bool, device):
    """What ``save_model`` wrote, loaded back whole on this process's ``device``: the fine-tuned model, or the base
    with the adapter."""
    from lampkit.modeling import load_model

    if full:
        return load_model(str(folder), dtype=model_args.dtype).to(device)
    from peft import PeftModel

    base = load_model(model_args.model_name_or_path, model_args.model_revision, model_args.dtype)
    return PeftModel.from_pretrained(base, str(folder)).to(device)


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    model_args, data_args, peft_args, decoding_args, hub_args, task_args, training_args = parse_recipe_args(
        PARSER_TYPES, argv)
    task, kind, seq2seq = check(model_args, data_args, peft_args, decoding_args, hub_args, task_args, training_args)

    from transformers import set_seed

    from lampkit.adapters.cards import render_card
    from lampkit.adapters.checks import write_adapter_record
    from lampkit.atomic import replace_dir
    from lampkit.modeling import load_model
    from lampkit.modeling import load_tokenizer
    from lampkit.modeling.generation import generate
    from lampkit.modeling.peft_methods import peft_config
    from lampkit.modeling.peft_methods import wrap_model
    from lampkit.predictions import run_record
    from lampkit.predictions import write_predictions
    from lampkit.prompts import to_prompt_completion
    from lampkit.recipe_args import load_split
    from lampkit.report import scores_text
    from lampkit.report import write_report
    from lampkit.scoring.files import write_json
    from lampkit.tasks import is_licensed

    # 1. data and prompts (every data check runs here, before any model weights load)
    tokenizer = load_tokenizer(model_args.model_name_or_path, model_args.model_revision)
    chat = False if seq2seq else (bool(tokenizer.chat_template) if model_args.use_chat_template is None
                                  else model_args.use_chat_template)
    prompt_settings = dict(style=data_args.style, ranking=data_args.ranking, k=data_args.k, tokenizer=tokenizer,
                           max_length=data_args.prompt_max_length, profile_column=data_args.profile_column,
                           num_proc=training_args.dataset_num_proc)
    train_split = load_split(data_args, data_args.train_split, data_args.max_train_questions)
    eval_split = load_split(data_args, data_args.eval_split, data_args.max_questions)
    evaluation = to_prompt_completion(eval_split, task, **prompt_settings)
    if task_args.train_mode == "questions":
        examples = to_prompt_completion(train_split, task, **prompt_settings).select_columns(
            ["prompt", "completion"]).to_list()
    else:
        examples = profile_item_examples(train_split, task, training_args.seed)
    if not examples:
        raise LampkitError("no training examples", field=data_args.train_split)

    # 2. model, adapter, training, into a temporary sibling of output_dir
    final = Path(training_args.output_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    training_args.output_dir = str(tmp / "trainer")
    try:
        model = load_model(model_args.model_name_or_path, model_args.model_revision, model_args.dtype)
        config = peft_config(peft_args.peft_method, seq2seq=seq2seq, r=peft_args.lora_r, alpha=peft_args.lora_alpha,
                             dropout=peft_args.lora_dropout, target_modules=peft_args.lora_target_modules,
                             num_virtual_tokens=peft_args.num_virtual_tokens, use_rslora=peft_args.use_rslora,
                             prompt_tuning_init=peft_args.prompt_tuning_init)
        # the adapter's initial weights are drawn here, before the Trainer seeds anything: seeded, a run repeats
        # and every process of a launch starts from the same weights (FSDP on CPU cannot broadcast rank 0's)
        set_seed(training_args.seed)
        model = wrap_model(model, config)
        timer = StepTimer()
        setup_seconds = time.perf_counter() - started
        trainer, metrics = train(model, tokenizer, examples, seq2seq, chat, data_args, training_args, timer)
        model = trainer.model
        adapter_dir = tmp / "adapter"
        save_started = time.perf_counter()
        trainer.save_model(str(adapter_dir))  # every process takes part; the main process writes
        if not trainer.accelerator.is_main_process:  # several processes: the main one generates and writes
            shutil.rmtree(tmp, ignore_errors=True)
            leave_process_group()
            return 0
        save_seconds = time.perf_counter() - save_started

        # 3. generation on the evaluation split, predictions, scores
        from_saved = task_args.eval_from_saved or (task_args.eval_from_saved is None and sharded(trainer))
        if from_saved:
            model = load_saved(model_args, adapter_dir, config is None, trainer.accelerator.device)
        decoding = decoding_args.decoding()
        outputs = generate(model, tokenizer, evaluation["prompt"], decoding, chat=chat,
                           batch_size=decoding_args.generation_batch_size, desc=f"generating ({task.name})")
        ids = evaluation["id"]
        user_col = task.user_column(kind)
        record = run_record(
            task.name, outputs, evaluation["output"], config=data_args.dataset_config, split=data_args.eval_split,
            split_kind=kind, model=model_args.model_name_or_path, adapter=hub_args.adapter_repo_id or str(final /
                                                                                                       "adapter"),
            decoding=decoding.as_dict(), ids=ids, users=evaluation[user_col] if user_col else None,
            subset=f"first {data_args.max_questions}" if data_args.max_questions else None,
            prompt={k: v for k, v in prompt_settings.items() if k not in ("tokenizer", "num_proc")},
            extra={"dataset": data_args.dataset_name, "train_mode": task_args.train_mode,
                   "peft_method": peft_args.peft_method, "chat_template": chat, "eval_from_saved": from_saved})
        write_predictions(tmp / "predictions.json", task.name, ids, outputs)

        # 4. the adapter (or full model), its record and card
        save_started = time.perf_counter()
        tokenizer.save_pretrained(adapter_dir)
        adapter_bytes = sum(p.stat().st_size for p in adapter_dir.rglob("*.safetensors"))
        figures = {"steps": trainer.state.global_step, "train_seconds": round(metrics["train_runtime"], 1),
                   "adapter_bytes": adapter_bytes, "num_train_examples": len(examples)}
        write_adapter_record(adapter_dir, model_args.model_name_or_path, config=data_args.dataset_config,
                             peft_method=peft_args.peft_method, **figures)
        record["training"] = figures
        repo_id = hub_args.adapter_repo_id or f"local/{final.name}"
        card = render_card(
            "task_adapter", repo_id=repo_id, base_model=model_args.model_name_or_path, record=record,
            tags=["lampkit", "lamp", task.name, peft_args.peft_method], licensed=is_licensed(task),
            datasets=[data_args.dataset_name] if data_args.dataset_name.count("/") == 1 and not Path(
                data_args.dataset_name).exists() else [],
            peft_method=peft_args.peft_method, config=data_args.dataset_config, task_title=task.title,
            split_kind=kind, dataset=data_args.dataset_name, style=data_args.style, k=data_args.k,
            ranking=data_args.ranking, train_mode=task_args.train_mode,
            peft_config_json=json.dumps(config.to_dict() if config else {"method": "full"}, indent=2,
                                        sort_keys=True, default=str),
            base_model_url=base_model_url(model_args.model_name_or_path),
            base_model_load=model_args.model_name_or_path, auto_class="Seq2SeqLM" if seq2seq else "CausalLM",
            **figures)
        card.save(adapter_dir / "README.md")
        shutil.rmtree(tmp / "trainer", ignore_errors=True)
        write_json(tmp / "results.json", record)
        write_report({"task adapter": record}, tmp)
        replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    save_seconds += time.perf_counter() - save_started
    in_steps = timer.seconds
    total = time.perf_counter() - started
    print(f"sft_task: {task.name} {kind}, {figures['steps']} steps on {len(examples)} examples; time in optimizer "
          f"steps {in_steps:.1f} s, outside {total - in_steps:.1f} s (set-up {setup_seconds:.1f} s, save and card "
          f"{save_seconds:.1f} s)")
    leave_process_group()
    print(f"sft_task: {scores_text(record)}")
    print(f"sft_task: adapter {final / 'adapter'}; predictions {final / 'predictions.json'}; results "
          f"{final / 'results.json'}; report {final / 'report.md'}")
    if hub_args.push_adapter:
        from lampkit.adapters.hub import push_adapter

        url = push_adapter(final / "adapter", hub_args.adapter_repo_id, public=hub_args.public,
                           licensed=is_licensed(task), revision=hub_args.adapter_revision)
        print(f"sft_task: pushed to {url}" + (f" (branch {hub_args.adapter_revision})"
                                               if hub_args.adapter_revision else ""))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LampkitError as err:
        sys.exit(f"sft_task: error: {err}")
