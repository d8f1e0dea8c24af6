"""``lampkit push``: upload a built folder (a Hub-ready dataset repo, or a model folder) to the Hugging Face Hub."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml
from huggingface_hub import metadata_load

from lampkit.build import read_record
from lampkit.errors import LampkitError
from lampkit.hub import DEFAULT_PRIVATE
from lampkit.hub import push_folder
from lampkit.tasks import get_task

#: Remote files a dataset push deletes when the folder no longer has them (stale Parquet shards).
DATASET_PRUNE = ("data/*",)


def register(subparsers) -> None:
    """Add the ``push`` sub-command."""
    push = subparsers.add_parser(
        "push",
        help="upload a built folder to the Hugging Face Hub",
        description="Upload OUT to the Hub repo ORG/NAME (created if missing); afterwards anyone with access loads "
        'it with datasets.load_dataset("ORG/NAME", CONFIG). The endpoint is HF_ENDPOINT; the token is --token, '
        "else HF_TOKEN, else the one saved by `hf auth login`.",
    )
    push.add_argument("out", type=Path, metavar="OUT", help="the folder to upload (e.g. from `lampkit build`)")
    push.add_argument("--repo-id", required=True, metavar="ORG/NAME", help="target repo")
    push.add_argument("--repo-type", choices=sorted(DEFAULT_PRIVATE), default="dataset", help="default: dataset")
    visibility = push.add_mutually_exclusive_group()
    visibility.add_argument(
        "--private", dest="private", action="store_true", default=None,
        help="create the repo private (default for model repos: per-user adapters)",
    )
    visibility.add_argument(
        "--public", dest="private", action="store_false", help="create the repo public (default for dataset repos)"
    )
    push.add_argument("--token", default=None, help="Hub token (prefer HF_TOKEN: arguments show in process lists)")
    push.set_defaults(func=run_push)


def check_hub_ready(folder: Path, repo_type: str) -> None:
    """Raise LampkitError unless ``folder`` has a README.md and, for a dataset, YAML ``configs:`` whose
    ``data_files`` each match at least one file in the folder."""
    readme = folder / "README.md"
    if not folder.is_dir():
        raise LampkitError("not a folder", file=folder)
    if not readme.is_file():
        raise LampkitError("no README.md (dataset card): build the folder with `lampkit build`", file=folder)
    try:
        meta = metadata_load(readme) or {}
    except (yaml.YAMLError, ValueError) as err:
        raise LampkitError(f"unreadable YAML front matter ({type(err).__name__})", file=readme) from None
    if repo_type != "dataset":
        return
    configs = meta.get("configs")
    if not isinstance(configs, list) or not configs:
        raise LampkitError("YAML front matter has no `configs:` list", file=readme, field="configs")
    for config in configs:
        name = config.get("config_name") if isinstance(config, dict) else None
        if not name:
            raise LampkitError("a `configs:` entry has no config_name", file=readme, field="configs")
        for pattern in _patterns(config.get("data_files"), readme, name):
            if not any(path.is_file() for path in folder.glob(pattern)):
                raise LampkitError(f"data_files pattern {pattern!r} matches no file", file=readme, record=name,
                                   field="data_files")


def _patterns(data_files, readme: Path, name: str) -> list[str]:
    """The path patterns of one config's ``data_files`` (a string, a list of strings, or split/path entries)."""
    if isinstance(data_files, str):
        return [data_files]
    patterns = []
    for entry in data_files if isinstance(data_files, list) else []:
        paths = entry.get("path") if isinstance(entry, dict) else entry
        patterns.extend([paths] if isinstance(paths, str) else paths if isinstance(paths, list) else [])
    if not patterns or not all(isinstance(p, str) for p in patterns):
        raise LampkitError("config has no data_files paths", file=readme, record=name, field="data_files")
    return patterns


def licensed_email_configs(folder: Path) -> list[str]:
    """Configs of a built folder that hold Avocado emails (LDC2015T03: not for public release)."""
    configs = read_record(folder)["configs"]
    return sorted(name for name, c in configs.items() if get_task(c["task"]).needs_avocado)


def run_push(args: argparse.Namespace) -> int:
    """Validate OUT and upload it; print the repo URL. A folder with Avocado configs is private unless --public."""
    check_hub_ready(args.out, args.repo_type)
    private = args.private
    licensed = licensed_email_configs(args.out) if args.repo_type == "dataset" else []
    if licensed and private is None:
        private = True
        print(f"lampkit: {', '.join(licensed)} hold Avocado emails (LDC licence): pushing private; "
              "pass --public only if your licence allows it", file=sys.stderr)
    url = push_folder(
        args.out,
        args.repo_id,
        repo_type=args.repo_type,
        private=private,
        token=args.token,
        prune=DATASET_PRUNE if args.repo_type == "dataset" else (),
    )
    print(url)
    return 0
