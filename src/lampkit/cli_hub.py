"""``lampkit push``: upload a built folder (a Hub-ready dataset repo, or a model folder) to the Hugging Face Hub."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lampkit.hub import DEFAULT_PRIVATE
from lampkit.hub import check_hub_ready
from lampkit.hub import push_dataset
from lampkit.hub import push_folder


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


def run_push(args: argparse.Namespace) -> int:
    """Validate OUT and upload it; print the repo URL. A folder with licensed configs is private unless --public."""
    if args.repo_type == "dataset":
        url, licensed = push_dataset(args.out, args.repo_id, private=args.private, token=args.token)
        if licensed and args.private is None:
            print(f"lampkit: {', '.join(licensed)} hold Avocado emails (LDC licence): pushed private; "
                  "pass --public only if your licence allows it", file=sys.stderr)
    else:
        check_hub_ready(args.out, args.repo_type)
        url = push_folder(args.out, args.repo_id, repo_type=args.repo_type, private=args.private, token=args.token)
    print(url)
    return 0
