"""``lampkit eval``: score prediction files in the official formats (``task``, ``all``) and write a leaderboard
zip (``export-zip``). The option names are the official scripts' with dashes; the underscore spellings work too.
"""

from __future__ import annotations

import argparse

from lampkit.errors import LampkitError
from lampkit.paths import check_output_file
from lampkit.scoring import AGGREGATIONS
from lampkit.scoring import lookup_task
from lampkit.scoring import nonempty_indices
from lampkit.scoring import result_record
from lampkit.scoring import score
from lampkit.scoring import score_by_user
from lampkit.scoring.files import align
from lampkit.scoring.files import check_leaderboard_tasks
from lampkit.scoring.files import export_zip
from lampkit.scoring.files import read_task_file
from lampkit.scoring.files import read_task_zip
from lampkit.scoring.files import write_json
from lampkit.scoring.users import load_user_ids
from lampkit.scoring.users import users_for
from lampkit.tasks import LEADERBOARD_TASKS
from lampkit.tasks import LONG_GENERATION


def _option(parser: argparse.ArgumentParser, name: str, **kwargs) -> None:
    """``--name``, plus the official scripts' ``--under_score`` spelling when the name has a dash."""
    spellings = [f"--{name}"] + ([f"--{name.replace('-', '_')}"] if "-" in name else [])
    parser.add_argument(*spellings, **kwargs)


def _common(parser: argparse.ArgumentParser) -> None:
    _option(parser, "output-file", required=True, metavar="FILE",
            help="result JSON, written only when everything scored")
    _option(parser, "split", help="recorded in the result, e.g. 'user/dev' or 'time/test'")
    _option(parser, "subset", help="recorded in the result, e.g. 'all' or 'OPPU top-100 users'")
    _option(parser, "aggregation", choices=AGGREGATIONS, default="mean",
            help="ROUGE aggregate: exact mean (default) or the official bootstrap with a fixed --seed")
    _option(parser, "seed", type=int, default=0, help="seed of the bootstrap aggregate (default 0)")


def register(subparsers) -> None:
    """Add ``eval`` with its sub-commands ``task``, ``all`` and ``export-zip``."""
    parser = subparsers.add_parser(
        "eval", help="score predictions with the official LaMP/LongLaMP metrics",
        description="Score prediction files in the official formats (task, all) and write a leaderboard zip "
                    "(export-zip). Options are the official scripts' with dashes; underscores work too.")
    sub = parser.add_subparsers(dest="eval_command", required=True, metavar="{task,all,export-zip}")

    task = sub.add_parser("task", help="score one task's predictions JSON against its golds JSON",
                          description="Score one task: files {\"task\": ..., \"golds\": [{\"id\", \"output\"}]}.")
    _option(task, "golds-json", required=True, metavar="FILE", help="gold outputs of the task")
    _option(task, "preds-json", required=True, metavar="FILE", help="predictions, same format and ids")
    _option(task, "task-name", required=True, metavar="TASK", help="LaMP_1 ... LaMP_7, LaMP_2N, or a LongLaMP task")
    _common(task)
    _option(task, "user-ids", metavar="PATH",
            help="per-user breakdown: JSON {question id: user id}, or a built dataset's Parquet file or folder "
                 "(columns id and user_id)")
    _option(task, "drop-empty", action="store_true",
            help="LongLaMP only: leave out pairs whose prediction or gold is empty, as LongLaMP's scorer did")
    task.set_defaults(func=run_task)

    every = sub.add_parser("all", help="score a leaderboard predictions zip against a golds zip",
                           description="Score every *.json in the zips (task from each file's 'task' field); "
                                       f"the predictions must cover exactly {', '.join(LEADERBOARD_TASKS)}.")
    _option(every, "golds-zip", required=True, metavar="ZIP", help="zip of gold files")
    _option(every, "preds-zip", required=True, metavar="ZIP", help="zip of prediction files")
    _common(every)
    every.set_defaults(func=run_all)

    export = sub.add_parser("export-zip", help="write a leaderboard-ready predictions zip",
                            description="Check prediction files and zip them as the leaderboard expects.")
    _option(export, "preds-json", required=True, nargs="+", metavar="FILE",
            help="one predictions file per leaderboard task")
    _option(export, "output-file", required=True, metavar="ZIP", help="the zip to write")
    export.set_defaults(func=run_export)


def _summary(task: str, record: dict) -> str:
    metrics = " ".join(f"{k}={record[k]:.4f}" for k in lookup_task(task).metric_keys)
    return f"{task}: {metrics} (n={record.get('num_scored', record['num_questions'])})"


def run_task(args: argparse.Namespace) -> int:
    task = lookup_task(args.task_name)
    check_output_file(args.output_file, inputs=[("--golds-json", args.golds_json), ("--preds-json", args.preds_json),
                                                ("--user-ids", args.user_ids)])
    golds = read_task_file(args.golds_json, golds=True)
    preds = read_task_file(args.preds_json, golds=False)
    for f in (preds, golds):
        if f.task != task.name:
            raise LampkitError(f"file is for task {f.task}, but --task-name is {args.task_name}", file=f.source,
                               field="task")
    outputs, refs, ids = align(golds, preds), golds.outputs, golds.ids
    if args.drop_empty:
        if task.metric != LONG_GENERATION:
            raise LampkitError(f"--drop-empty reproduces LongLaMP's scorer and applies to LongLaMP tasks only, "
                               f"not {task.name}")
        keep = nonempty_indices(outputs, refs)
        if not keep:
            raise LampkitError("every prediction or gold is empty: nothing left to score", file=preds.source)
        outputs, refs, ids = ([seq[i] for i in keep] for seq in (outputs, refs, ids))
    users = users_for(ids, load_user_ids(args.user_ids, task), args.user_ids) if args.user_ids else None
    sources = (preds.source, golds.source)
    scores = score(task.name, outputs, refs, aggregation=args.aggregation, seed=args.seed, ids=ids, sources=sources)
    per_user = score_by_user(task.name, outputs, refs, users, ids=ids, sources=sources) if users else None
    record = result_record(task.name, scores, num_questions=len(golds.ids), split=args.split, subset=args.subset,
                           aggregation=args.aggregation, seed=args.seed, num_scored=len(ids), per_user=per_user)
    write_json(args.output_file, record)
    print(f"{_summary(task.name, record)} -> {args.output_file}")
    return 0


def run_all(args: argparse.Namespace) -> int:
    check_output_file(args.output_file, inputs=[("--golds-zip", args.golds_zip), ("--preds-zip", args.preds_zip)])
    golds = read_task_zip(args.golds_zip, golds=True)
    preds = read_task_zip(args.preds_zip, golds=False)
    check_leaderboard_tasks(preds, args.preds_zip)
    results = {}
    for task in LEADERBOARD_TASKS:
        if task not in golds:
            raise LampkitError(f"no gold file for {task}", file=args.golds_zip, field="task")
        gold, pred = golds[task], preds[task]
        scores = score(task, align(gold, pred), gold.outputs, aggregation=args.aggregation, seed=args.seed,
                       ids=gold.ids, sources=(pred.source, gold.source))
        results[task] = result_record(task, scores, num_questions=len(gold.ids), split=args.split,
                                      subset=args.subset, aggregation=args.aggregation, seed=args.seed)
    write_json(args.output_file, results)
    for task, record in results.items():
        print(_summary(task, record))
    print(f"-> {args.output_file}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    check_output_file(args.output_file, inputs=[("--preds-json", p) for p in args.preds_json])
    members = export_zip(args.preds_json, args.output_file)
    print(f"{args.output_file}: {', '.join(members)}")
    return 0
