"""PAG profile summaries (``TamSiuhin/OPPU:gen_profile.py``): a chosen model summarises each user from up to 10 of
their profile items (sampled with a per-user seed), and the summary becomes a ``profile_summary`` column of a copy of
the built config, which the ``oppu`` prompt style reads (``profile_column: profile_summary``).

Summaries are cached one JSON line per user in ``output_dir/.summaries/<split>.jsonl`` as they are made, beside the
settings they were made with, so a killed run resumes where it stopped and a run with another model, seed or
decoding starts over; the dataset folder (Parquet + a README with ``configs:``, one config) is written at the end.

    python recipes/pag_profiles.py --config recipes/pag_profiles.yaml
    python recipes/pag_profiles.py --config recipes/pag_profiles.yaml --model_name_or_path my/summariser
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from lampkit.atomic import replace_dir
from lampkit.build import write_split
from lampkit.errors import LampkitError
from lampkit.recipe_args import DecodingArguments
from lampkit.recipe_args import ModelArguments
from lampkit.recipe_args import check_one_process
from lampkit.recipe_args import parse_recipe_args
from lampkit.resume import read_records
from lampkit.resume import repair
from lampkit.resume import start_work


@dataclass
class PagArguments:
    # data
    dataset_name: str = "out/lamp"
    dataset_config: str = "LaMP_3_time"
    splits: list[str] = field(default_factory=lambda: ["train", "validation", "test"])
    output_dir: str = field(default="out/recipes/pag", metadata={"help": "a dataset folder with profile_summary"})
    seed: int = 0
    max_questions: int | None = None


def summaries(split_rows, task, kind, model, tokenizer, decoding, cache: Path, seed: int, batch_size: int) -> dict:
    """{user: summary} for every user of ``split_rows``, resuming from ``cache``."""
    from lampkit.modeling.generation import generate
    from lampkit.prompts import profile_summary_prompt
    from lampkit.users import user_seed

    done = {}
    if cache.is_file():
        repair(cache)  # a line torn by a kill is made again
        done = {entry["user"]: entry["summary"] for entry in read_records(cache)}
    user_col = task.user_column(kind)
    todo = {}
    for row in split_rows:
        user = str(row[user_col] if user_col else row["id"])
        if user not in done and user not in todo:
            todo[user] = profile_summary_prompt(row["profile"], task, seed=user_seed(seed, user))
    users = list(todo)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with cache.open("a") as sink:
        for start in range(0, len(users), batch_size):
            chunk = users[start:start + batch_size]
            outs = generate(model, tokenizer, [todo[u] for u in chunk], decoding, batch_size=batch_size,
                            desc=f"profiles {start + len(chunk)}/{len(users)}")
            for user, text in zip(chunk, outs):
                sink.write(json.dumps({"user": user, "summary": text}) + "\n")
                done[user] = text
            sink.flush()
    return done


def main(argv: list[str] | None = None) -> int:
    model_args, decoding_args, args = parse_recipe_args((ModelArguments, DecodingArguments, PagArguments), argv)
    check_one_process("pag_profiles")
    from lampkit.paths import check_replaced_dir
    from lampkit.recipe_args import DataArguments
    from lampkit.recipe_args import check_args
    from lampkit.recipe_args import load_split

    data = DataArguments(dataset_name=args.dataset_name, dataset_config=args.dataset_config, ranking=None, k=0)
    task, kind, _ = check_args(model_args, data, decoding_args)
    if task.oppu is None:
        raise LampkitError(f"{task.name} has no PAG prompt", field="dataset_config")
    check_replaced_dir(args.output_dir, writes=("README.md", "data"), inputs=[
        ("dataset_name", args.dataset_name), ("model_name_or_path", model_args.model_name_or_path)], dataset=True)
    out = Path(args.output_dir)
    others = sorted(p.name for p in (out / "data").glob("*") if not p.name.startswith("."))  # none if no folder
    if set(others) - {args.dataset_config}:  # the card lists one config: the other's data would be left unlisted
        raise LampkitError(f"holds the summaries of {', '.join(others)}; one output_dir holds one config: choose "
                           "another output_dir", file=out, field="output_dir")
    rows = {split: load_split(data, split, args.max_questions) for split in args.splits}
    record = {"model": model_args.model_name_or_path, "seed": args.seed,
              "decoding": decoding_args.decoding().as_dict(), "source": args.dataset_name}
    cache = out / ".summaries"
    start_work(cache, {**record, "config": args.dataset_config, "revision": model_args.model_revision,
                       "dtype": model_args.dtype})  # summaries of other settings are not reused

    from lampkit.modeling import load_model
    from lampkit.modeling import load_tokenizer

    tokenizer = load_tokenizer(model_args.model_name_or_path, model_args.model_revision)
    model = load_model(model_args.model_name_or_path, model_args.model_revision, model_args.dtype)
    user_col = task.user_column(kind)
    yaml = ["---", "configs:", f"- config_name: {args.dataset_config}", "  data_files:"]
    final = out / "data" / args.dataset_config
    final.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    for split, dataset in rows.items():
        found = summaries(dataset, task, kind, model, tokenizer, decoding_args.decoding(),
                          cache / f"{split}.jsonl", args.seed, decoding_args.generation_batch_size)
        keys = dataset[user_col] if user_col else dataset["id"]
        _, digest = write_split(dataset.add_column("profile_summary", [found[str(k)] for k in keys]), build, split)
        yaml += [f"  - split: {split}", f"    path: data/{args.dataset_config}/{split}-*-{digest}.parquet"]
    replace_dir(build, final)
    (out / "README.md").write_text("\n".join(yaml + ["---", "", f"# {args.dataset_config} with PAG profile summaries",
                                                     "", "```json", json.dumps(record, indent=2), "```", ""]))
    print(f"pag_profiles: {args.dataset_config} with a profile_summary column in {out} "
          f"(load_dataset({str(out)!r}, {args.dataset_config!r}))")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LampkitError as err:
        sys.exit(f"pag_profiles: error: {err}")
