"""The ``lampkit`` command line: build, show, push and evaluate.

Every bad input ends as one ``lampkit: error: ...`` line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import LampkitError
from .paths import tidy_text_args
from .tasks import BENCHMARKS


def check_build_args(args: argparse.Namespace) -> None:
    """Refuse contradictory options and output paths that would fail late or damage an input, before building."""
    from .paths import check_output_dir

    if args.all and args.config:
        raise LampkitError("--all builds every config: give either --all or --config, not both")
    if args.num_proc is not None and args.num_proc < 1:
        raise LampkitError(f"--num-proc must be 1 or more, got {args.num_proc}")
    for option, folder in (("--data-dir", args.data_dir), ("--avocado-dir", args.avocado_dir)):
        if folder is not None and not Path(folder).is_dir():
            raise LampkitError(f"no such folder (given as {option})", file=folder)
    rankers = (args.rankers or "").replace(" ", "").split(",")
    dense = [option for option, value in (("--dense-model", args.dense_model), ("--dense-pooling", args.dense_pooling),
                                          ("--dense-similarity", args.dense_similarity),
                                          ("--dense-max-length", args.dense_max_length)) if value is not None]
    if dense and "dense" not in rankers:  # given alone, it was ignored without a word
        raise LampkitError("applies to the dense ranker only: add dense to --rankers", field=dense[0])
    if args.use_date and not {"bm25", "dense"} & set(rankers):
        raise LampkitError("adds the date to the documents of the bm25 and dense rankers: add one to --rankers",
                           field="--use-date")
    inputs = [("--data-dir", args.data_dir), ("--avocado-dir", args.avocado_dir)]
    check_output_dir(args.out, option="--out", inputs=inputs, dataset=True)
    if args.cache_dir:
        check_output_dir(args.cache_dir, option="--cache-dir", inputs=inputs + [("--out", args.out)])


def _build(args: argparse.Namespace) -> int:
    from .build import BuildOptions
    from .build import build
    from .build import config_names
    from .tasks import parse_config_name

    check_build_args(args)
    known = config_names(args.benchmark)
    configs = known if args.all else list(dict.fromkeys(args.config or []))  # a config named twice is built once
    if args.all and not args.avocado_dir:
        skipped = [c for c in configs if parse_config_name(c)[0].needs_avocado]
        configs = [c for c in configs if c not in skipped]
        print(f"lampkit: skipping {', '.join(skipped)}: they need --avocado-dir (Avocado, LDC2015T03)",
              file=sys.stderr)
    if not configs:
        raise LampkitError("name at least one --config, or --all")
    unknown = [c for c in configs if c not in known]
    if unknown:
        raise LampkitError(f"unknown {args.benchmark} config {unknown[0]!r}; known: {', '.join(known)}")
    options = BuildOptions(data_dir=args.data_dir, avocado_dir=args.avocado_dir,
                           rankers=[r for r in (args.rankers or "").split(",") if r],
                           dense_model=args.dense_model, dense_pooling=args.dense_pooling,
                           dense_similarity=args.dense_similarity, dense_max_length=args.dense_max_length,
                           use_date=args.use_date, num_proc=args.num_proc)
    if args.cache_dir:
        options.cache_dir = args.cache_dir
    out = build(args.benchmark, configs, args.out, options)
    print(f"wrote {len(configs)} config(s) to {out}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from .show import show

    print(show(args.folder, args.config))
    return 0


def _add_build(sub) -> None:
    p = sub.add_parser("build", help="build benchmark configs into a Hub-ready dataset folder")
    p.add_argument("benchmark", choices=sorted(BENCHMARKS))
    p.add_argument("--config", action="append", default=[], help="config to build (repeatable)")
    p.add_argument("--all", action="store_true",
                   help="build every config (without --avocado-dir: all but the email configs)")
    p.add_argument("--out", required=True, help="output folder (configs already there are kept)")
    p.add_argument("--data-dir", help="local mirror of the official files (same relative paths as the URLs)")
    p.add_argument("--avocado-dir", help="folder of the Avocado (LDC2015T03) text zips, for the email configs")
    p.add_argument("--rankers", help="comma-separated ranking columns to add: bm25, dense, recency")
    p.add_argument("--dense-model", help="dense ranker: sentence-transformers or Transformers name or path "
                   "(default: offline MiniLM; presets: minilm, contriever)")
    p.add_argument("--dense-pooling", choices=["mean", "cls"],
                   help="pooling of a plain Transformers dense model (required there; Contriever: mean)")
    p.add_argument("--dense-similarity", choices=["dot", "cosine"],
                   help="similarity of a plain Transformers dense model (required there; Contriever: dot)")
    p.add_argument("--dense-max-length", type=int, help="truncate dense-ranked texts at N tokens "
                   "(default: the model's own limit; Contriever 512)")
    p.add_argument("--use-date", action="store_true", help="append ' date: {date}' to ranked documents")
    p.add_argument("--num-proc", type=int, help="processes for the ranking map")
    p.add_argument("--cache-dir", help="cache folder (default ~/.cache/lampkit or $LAMPKIT_CACHE)")
    p.set_defaults(func=_build)

    s = sub.add_parser("show", help="load a built folder with stock datasets and print a summary")
    s.add_argument("folder")
    s.add_argument("--config", help="only this config")
    s.set_defaults(func=_show)


def parser() -> argparse.ArgumentParser:
    from . import cli_eval
    from . import cli_hub
    from . import cli_prompts

    p = argparse.ArgumentParser(prog="lampkit", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"lampkit {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    _add_build(sub)
    cli_hub.register(sub)
    cli_eval.register(sub)
    cli_prompts.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        tidy_text_args(vars(args), lambda name: f"--{name.replace('_', '-')}")
        return args.func(args)
    except LampkitError as err:
        print(f"lampkit: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lampkit: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
