"""``lampkit prompts``: the prompts (and completions) of a built config, previewed or written as JSON Lines.

    lampkit prompts DATA --config LaMP_4_user --k 2 --ranking ranking_bm25 --tokenizer PATH [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from .errors import LampkitError


def _load_tokenizer(path: str | None):
    if path is None:
        return None
    from .modeling import load_tokenizer  # the embedded model's name works too

    try:
        return load_tokenizer(path)
    except LampkitError as err:
        raise LampkitError(err.message, file=err.file, field="--tokenizer") from None


def _run(args: argparse.Namespace) -> int:
    import datasets

    from .atomic import replace_dir
    from .paths import check_output_dir
    from .paths import check_replaced_dir
    from .prompts import to_prompt_completion
    from .tasks import parse_config_name

    try:
        task, _ = parse_config_name(args.config)
    except KeyError as err:
        raise LampkitError(err.args[0], field="config") from None
    for option, value, least in (("--num-proc", args.num_proc, 1), ("--show", args.show, 0)):
        if value is not None and value < least:
            raise LampkitError(f"must be {least} or more, got {value}", field=option)
    if not Path(args.data).is_dir():
        raise LampkitError("no such folder (a folder written by `lampkit build`)", file=args.data)
    if args.out:
        check_output_dir(args.out, option="--out", inputs=[("DATA", args.data)])
    ranking = None if args.ranking == "none" else args.ranking
    tokenizer = _load_tokenizer(args.tokenizer)
    try:
        splits = datasets.load_dataset(args.data, args.config)
    except (OSError, ValueError) as err:
        raise LampkitError(f"cannot load config {args.config}: {str(err).splitlines()[0]}", file=args.data) from None
    names = [args.split] if args.split else list(splits)
    if args.split and args.split not in splits:
        raise LampkitError(f"no split {args.split!r}; it has {', '.join(splits)}", field="split")
    # the folder is replaced whole: it may only hold an earlier run's files, never the data or other work
    out = check_replaced_dir(args.out, writes=[f"{name}.jsonl" for name in splits], option="--out",
                             inputs=[("DATA", args.data)]) if args.out else None
    options = {"profile_column": args.profile_column} if args.profile_column else {}
    built = {name: to_prompt_completion(splits[name], task, style=args.style, ranking=ranking, k=args.k,
                                        tokenizer=tokenizer, max_length=args.max_length, num_proc=args.num_proc,
                                        faithful_bugs=args.faithful_bugs, **options) for name in names}
    if out is None:
        for name, ds in built.items():
            for example in ds.select(range(min(args.show, ds.num_rows))):
                print(f"--- {name} {example['id']}\n{example['prompt']}\n>>> {example['completion']!r}")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, ds in built.items():
            with open(tmp / f"{name}.jsonl", "w", encoding="utf-8") as f:
                for example in ds.select_columns(["id", "prompt", "completion"]):
                    f.write(json.dumps(example, ensure_ascii=False) + "\n")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"wrote {', '.join(f'{n}.jsonl' for n in built)} to {out}")
    return 0


def register(subparsers) -> None:
    from .prompts import STYLES

    p = subparsers.add_parser("prompts", help="preview or write the prompts of a built config",
                              description="Build TRL prompt/completion pairs of a built config with "
                                          "lampkit.prompts.to_prompt_completion; print a few, or write "
                                          "DIR/<split>.jsonl.")
    p.add_argument("data", metavar="DATA", help="folder written by `lampkit build`")
    p.add_argument("--config", required=True, help="config, e.g. LaMP_4_user")
    p.add_argument("--style", choices=STYLES, default="lamp", help="prompt style (default lamp)")
    p.add_argument("--k", type=int, default=1, help="profile items (oppu: history items) per prompt (default 1)")
    p.add_argument("--ranking", default="ranking_bm25",
                   help="ranking column, an on-the-fly ranker (random, recency, recency_contriever) or none")
    p.add_argument("--tokenizer", help="tokenizer folder or name for the token budget")
    p.add_argument("--max-length", type=int, default=256, help="token budget (default 256)")
    p.add_argument("--profile-column", help="oppu: column holding a PAG profile summary")
    p.add_argument("--faithful-bugs", action="store_true", help="reproduce the originals' prompt bugs")
    p.add_argument("--split", help="only this split")
    p.add_argument("--show", type=int, default=3, help="prompts printed per split without --out (default 3)")
    p.add_argument("--num-proc", type=int, help="processes for the map")
    p.add_argument("--out", help="write <split>.jsonl files (id, prompt, completion) to this folder")
    p.set_defaults(func=_run)
