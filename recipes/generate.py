"""Generation on a built split with retrieval-augmented prompts: zero-shot
(``LaMP-Benchmark/LaMP:LaMP/evaluate_llm.py``) or with a PEFT adapter from a local folder or a Hub repo id (with
revision). Writes official-format predictions, the lamp_eval scores in a result record (with the decoding settings),
and a report with a per-user PNG where the split has users. Batched with left padding, greedy by default; beams or
sampling by config.

    python recipes/generate.py --config recipes/generate.yaml
    python recipes/generate.py --config recipes/generate.yaml --adapter out/recipes/sft_task/adapter \
        --output_dir out/recipes/generate-adapter --compare out/recipes/generate/results.json
    python recipes/generate.py --config recipes/generate.yaml --adapter my-org/lamp3-lora --adapter_revision main \
        --max-questions 16
    accelerate launch --config_file recipes/accelerate_configs/cpu.yaml recipes/generate.py \
        --config recipes/generate.yaml
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from lampkit.errors import LampkitError
from lampkit.recipe_args import DataArguments
from lampkit.recipe_args import DecodingArguments
from lampkit.recipe_args import ModelArguments
from lampkit.recipe_args import check_one_process
from lampkit.recipe_args import parse_recipe_args

#: What the recipe writes into output_dir (an existing output_dir holding anything else is refused).
OUTPUTS = ("predictions.json", "results.json", "report.md", "per_user.png", "task_model_alone")


@dataclass
class GenerateArguments:
    # adapter and outputs
    output_dir: str = field(default="out/recipes/generate", metadata={"help": "predictions, results, report"})
    adapter: str | None = field(default=None, metadata={"help": "PEFT adapter folder or Hub repo id"})
    adapter_revision: str | None = field(default=None, metadata={"help": "branch, tag or commit sha of a Hub "
                                                                         "--adapter (default main)"})
    run_name: str | None = field(default=None, metadata={"help": "this run's name in the report"})
    compare: list[str] | None = field(default=None, metadata={"help": "results.json files shown beside this run"})
    user_adapters: str | None = field(default=None, metadata={"help": "per-user adapters (lampkit.oppu): a "
                                      "sft_oppu output folder or hub:<org>/<prefix>; --adapter is the task adapter"})
    user_salt: str = field(default="lampkit", metadata={"help": "the user_salt the per-user adapters were made with"})
    user_hub_layout: str = "repo"
    user_adapters_revision: str | None = field(default=None, metadata={"help": "branch, tag or commit sha of the "
                                               "hub: per-user adapters (default main)"})
    progress: bool = True


def load_inputs(model_args, data_args, decoding_args, gen_args):
    """Checks, data and prompts: (task, split kind, seq2seq, tokenizer, evaluation rows with ``prompt``,
    adapter folder or None, the other runs' records). Nothing heavy has run when this raises."""
    from lampkit.adapters.checks import check_adapter_base
    from lampkit.adapters.hub import resolve_adapter
    from lampkit.modeling import load_tokenizer
    from lampkit.paths import check_replaced_dir
    from lampkit.prompts import to_prompt_completion
    from lampkit.recipe_args import check_args
    from lampkit.recipe_args import load_split
    from lampkit.report import read_record

    task, kind, seq2seq = check_args(model_args, data_args, decoding_args)
    check_replaced_dir(gen_args.output_dir, writes=OUTPUTS, inputs=[
        ("dataset_name", data_args.dataset_name), ("model_name_or_path", model_args.model_name_or_path),
        ("adapter", gen_args.adapter), ("user_adapters", gen_args.user_adapters)])
    for name, revision in (("adapter", gen_args.adapter_revision), ("user_adapters",
                                                                     gen_args.user_adapters_revision)):
        if revision is not None and not getattr(gen_args, name):
            raise LampkitError(f"{name}_revision {revision!r} is given without {name}; nothing would load it",
                               field=f"{name}_revision")
    if gen_args.user_adapters_revision is not None and not gen_args.user_adapters.startswith("hub:"):
        raise LampkitError(f"a revision ({gen_args.user_adapters_revision!r}) applies to hub:<org>/<prefix> user "
                           "adapters, not to a local folder", field="user_adapters_revision")
    others = {}
    for path in gen_args.compare or []:
        other = read_record(path, task.name, config=data_args.dataset_config, split=data_args.eval_split)
        others[other.get("run_name") or Path(path).parent.name] = other
    adapter = None
    if gen_args.adapter:
        adapter = resolve_adapter(gen_args.adapter, gen_args.adapter_revision)
        check_adapter_base(adapter, model_args.model_name_or_path)
    tokenizer = load_tokenizer(model_args.model_name_or_path, model_args.model_revision)
    rows = load_split(data_args, data_args.eval_split, data_args.max_questions)
    rows = to_prompt_completion(rows, task, style=data_args.style, ranking=data_args.ranking, k=data_args.k,
                                tokenizer=tokenizer, max_length=data_args.prompt_max_length,
                                profile_column=data_args.profile_column)
    return task, kind, seq2seq, tokenizer, rows, adapter, others


def load_generator(model_args, adapter: Path | None):
    """The base model, with the adapter on it where one is given."""
    from lampkit.modeling import load_model

    model = load_model(model_args.model_name_or_path, model_args.model_revision, model_args.dtype)
    if adapter is None:
        return model
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(adapter))


def write_outputs(out: Path, name: str, task, kind, rows, outputs, record_args, others) -> dict:
    """Predictions, result record and report in ``out`` (a fresh folder); ``name`` names the run."""
    from lampkit.predictions import run_record
    from lampkit.predictions import write_predictions
    from lampkit.report import write_report
    from lampkit.scoring.files import write_json

    model_args, data_args, decoding, gen_args, chat, commit = record_args
    user_col = task.user_column(kind)
    record = run_record(
        task.name, outputs, rows["output"], config=data_args.dataset_config, split=data_args.eval_split,
        split_kind=kind, model=model_args.model_name_or_path, adapter=gen_args.adapter, decoding=decoding.as_dict(),
        ids=rows["id"], users=rows[user_col] if user_col else None,
        subset=f"first {data_args.max_questions}" if data_args.max_questions else None,
        prompt=dict(style=data_args.style, ranking=data_args.ranking, k=data_args.k,
                    max_length=data_args.prompt_max_length, profile_column=data_args.profile_column),
        extra={"dataset": data_args.dataset_name, "adapter_revision": gen_args.adapter_revision,
               "adapter_commit": commit, "chat_template": chat, "run_name": name})
    write_predictions(out / "predictions.json", task.name, rows["id"], outputs)
    write_json(out / "results.json", record)
    write_report({**others, record["run_name"]: record}, out)
    return record


def main(argv: list[str] | None = None) -> int:
    model_args, data_args, decoding_args, gen_args = parse_recipe_args(
        (ModelArguments, DataArguments, DecodingArguments, GenerateArguments), argv)
    check_one_process("generate")
    from lampkit.modeling.memory import keep_freed_memory

    keep_freed_memory()  # batches on CPU reuse freed activations instead of faulting in fresh pages
    # 1. checks, data, prompts
    task, kind, seq2seq, tokenizer, rows, adapter, others = load_inputs(model_args, data_args, decoding_args,
                                                                        gen_args)
    # 2. model
    from lampkit.adapters.hub import adapter_commit
    from lampkit.atomic import replace_dir
    from lampkit.modeling.generation import generate
    from lampkit.report import scores_text

    chat = False if seq2seq else model_args.use_chat_template
    # 3. generate
    decoding = decoding_args.decoding()
    if gen_args.user_adapters:  # each question with its user's adapter, beside the task model alone
        from lampkit.oppu.serve import serve_users

        user_col = task.user_column(kind)
        outputs, alone, per_user = serve_users(
            model_args.model_name_or_path, adapter and str(adapter), tokenizer, rows["prompt"],
            rows[user_col] if user_col else rows["id"], decoding, source=gen_args.user_adapters,
            salt=gen_args.user_salt, task=task.name, layout=gen_args.user_hub_layout,
            revision=gen_args.user_adapters_revision, dtype=model_args.dtype,
            batch_size=decoding_args.generation_batch_size, chat=chat, progress=gen_args.progress)
    else:
        model = load_generator(model_args, adapter)
        outputs = generate(model, tokenizer, rows["prompt"], decoding, chat=chat,
                           batch_size=decoding_args.generation_batch_size, progress=gen_args.progress,
                           desc=f"generating ({task.name})")
    # 4. write, score, report (into a temporary sibling, renamed at the end)
    final = Path(gen_args.output_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        used_chat = bool(tokenizer.chat_template) if chat is None and not seq2seq else bool(chat)
        commit = adapter_commit(adapter) if adapter is not None else None  # the pulled adapter's Hub commit
        record_args = (model_args, data_args, decoding, gen_args, used_chat, commit)
        if gen_args.user_adapters:
            (tmp / "task_model_alone").mkdir()
            others["task model alone"] = write_outputs(tmp / "task_model_alone", "task model alone", task, kind,
                                                       rows, alone, record_args, {})
        record = write_outputs(tmp, gen_args.run_name or final.name, task, kind, rows, outputs, record_args, others)
        if gen_args.user_adapters:
            from lampkit.scoring.files import write_json

            record["user_adapters"] = per_user
            write_json(tmp / "results.json", record)
        replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"generate: {task.name} {kind}, {len(outputs)} questions, {scores_text(record)}")
    plot = final / "per_user.png"
    print(f"generate: predictions {final / 'predictions.json'}; results {final / 'results.json'}; report "
          f"{final / 'report.md'}" + (f"; plot {plot}" if plot.exists() else ""))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LampkitError as err:
        sys.exit(f"generate: error: {err}")
