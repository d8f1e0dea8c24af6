"""Upload a folder to the Hugging Face Hub and download a repo from it, through ``huggingface_hub``.

The endpoint is ``HF_ENDPOINT`` (default https://huggingface.co). The token, when not given, is the one
``huggingface_hub`` finds (``HF_TOKEN``, then ``hf auth login``). Tokens are never printed, logged or written.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from huggingface_hub import HfApi
from huggingface_hub import constants
from huggingface_hub import metadata_load
from huggingface_hub import snapshot_download
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.errors import HFValidationError
from huggingface_hub.errors import LocalEntryNotFoundError
from huggingface_hub.errors import RevisionNotFoundError
from huggingface_hub.utils import get_token
from huggingface_hub.utils import httpx
from huggingface_hub.utils import validate_repo_id

from lampkit.errors import LampkitError
from lampkit.tasks import is_licensed

#: Visibility of a new repo when ``private`` is not given: datasets are public, models (per-user adapters) private.
DEFAULT_PRIVATE = {"dataset": False, "model": True}
#: Remote files a dataset push deletes when the folder no longer has them (stale Parquet shards).
DATASET_PRUNE = ("data/*",)
#: A full commit sha, as the Hub names commits (and the cache names snapshot folders).
COMMIT_SHA = re.compile(r"[0-9a-f]{40}")


def check_repo_id(repo_id: str, field: str = "repo_id") -> str:
    """Return ``repo_id`` if it is ``ORG/NAME`` and valid on the Hub, else raise LampkitError naming ``field``."""
    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise LampkitError(f"not a valid Hub repo id ({err})", field=field) from None
    if repo_id.count("/") != 1:
        raise LampkitError(f"repo id {repo_id!r} must be ORG/NAME", field=field)
    return repo_id


def first_line(err: BaseException) -> str:
    """The first non-blank line of an exception's message (its class name when it has none), followed by the
    first line of what the Hub said, where it said something (``404 Client Error.`` alone tells little)."""
    line = next((line.strip() for line in str(err).splitlines() if line.strip()), type(err).__name__)
    said = next((s.strip() for s in (getattr(err, "server_message", None) or "").splitlines() if s.strip()), "")
    return f"{line} {said}" if said and said not in line else line


def check_token(field: str) -> None:
    """Before a recipe's work: the push it was asked for at the end needs a token (``field``: the option asking)."""
    if not get_token():
        raise LampkitError("a push needs a Hugging Face token, and none is set: set HF_TOKEN or run `hf auth login`",
                           field=field)


def unreachable(err: BaseException, field: str | None = None) -> LampkitError:
    """The one-line error for a Hub that is offline (``HF_HUB_OFFLINE``) or out of reach."""
    return LampkitError(f"cannot reach the Hub at {constants.ENDPOINT} (HF_ENDPOINT): {first_line(err)}",
                        field=field)


def check_hub_ready(folder: str | Path, repo_type: str = "dataset", *, whole: bool = False) -> list[str]:
    """Raise LampkitError unless ``folder`` has a README.md and, for a dataset, YAML ``configs:`` whose
    ``data_files`` each match at least one file in the folder; return the config names (``[]`` for a model).

    ``whole`` also checks that every shard the build record (``lampkit.json``) lists is still there.
    """
    folder = Path(folder)
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
        return []
    configs = meta.get("configs")
    if not isinstance(configs, list) or not configs:
        raise LampkitError("YAML front matter has no `configs:` list (not a folder written by `lampkit build`)",
                           file=readme, field="configs")
    names = []
    for config in configs:
        name = config.get("config_name") if isinstance(config, dict) else None
        if not name:
            raise LampkitError("a `configs:` entry has no config_name", file=readme, field="configs")
        for pattern in _patterns(config.get("data_files"), readme, name):
            if not any(path.is_file() for path in folder.glob(pattern)):
                raise LampkitError(f"data_files pattern {pattern!r} matches no file", file=readme, record=name,
                                   field="data_files")
        names.append(name)
    if whole:
        for name, built in _build_record(folder).get("configs", {}).items():
            for split, info in built.get("splits", {}).items():
                missing = [f for f in info.get("files", []) if not (folder / "data" / name / f).is_file()]
                if missing:
                    raise LampkitError(f"shard {missing[0]} of split {split} is missing; rebuild with `lampkit "
                                       "build`", file=folder, record=name, field="data_files")
    return names


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


def _build_record(folder: Path) -> dict:
    from lampkit.build import read_record

    return read_record(folder)


def licensed_configs(folder: str | Path) -> list[str]:
    """Configs of a built folder whose data needs a licence (:func:`lampkit.tasks.is_licensed`)."""
    return sorted(name for name in _build_record(Path(folder))["configs"] if is_licensed(name))


@contextmanager
def _with_card(folder: Path, repo_id: str) -> Iterator[Path]:
    """``folder`` as it should be uploaded: a built dataset folder gets its card re-rendered for ``repo_id`` (so
    its ``load_dataset`` example names the real repo), in a hard-linked copy; the folder itself is not changed."""
    record = _build_record(folder)
    if not record.get("configs"):
        yield folder
        return
    from lampkit.card import render_dataset_card

    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.push.", dir=folder.parent))
    except OSError:
        staging = Path(tempfile.mkdtemp(prefix="lampkit-push."))
    try:
        shutil.copytree(folder, staging / folder.name, copy_function=_link_or_copy,
                        ignore=shutil.ignore_patterns("README.md"))
        (staging / folder.name / "README.md").write_text(render_dataset_card(record, repo_id), encoding="utf-8")
        yield staging / folder.name
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another filesystem, or one without hard links
        shutil.copy2(src, dst)


def push_dataset(folder: str | Path, repo_id: str, *, private: bool | None = None,
                 token: str | None = None) -> tuple[str, list[str]]:
    """Check a built dataset folder and push it: stale shards are pruned, the card names ``repo_id``, and a folder
    with licensed configs is private unless ``private=False`` is explicit. Returns the URL and those configs."""
    folder = Path(folder)
    check_hub_ready(folder, "dataset")
    licensed = licensed_configs(folder)
    if licensed and private is None:
        private = True
    with _with_card(folder, check_repo_id(repo_id)) as upload:
        url = push_folder(upload, repo_id, repo_type="dataset", private=private, token=token, prune=DATASET_PRUNE)
    return url, licensed


def push_folder(
    folder: str | Path,
    repo_id: str,
    *,
    repo_type: str = "dataset",
    private: bool | None = None,
    token: str | None = None,
    commit_message: str = "Upload with lampkit push",
    prune: tuple[str, ...] = (),
    revision: str | None = None,
) -> str:
    """Create ``repo_id`` if needed and upload ``folder`` to it in one commit on branch ``revision`` (default
    ``main``; a missing branch is created from ``main``); return the repo URL.

    ``private=None`` takes ``DEFAULT_PRIVATE[repo_type]``. A repo that already exists keeps its visibility, but a
    private push into an existing public repo is refused (nothing is uploaded). Remote files matching a ``prune``
    pattern (``fnmatch``, e.g. ``"data/*"``) that the folder no longer has are deleted in the same commit, so stale
    shards cannot linger. Unchanged files are not re-uploaded.
    """
    folder = Path(folder)
    check_repo_id(repo_id)
    if repo_type not in DEFAULT_PRIVATE:
        raise LampkitError(f"repo type must be one of {sorted(DEFAULT_PRIVATE)}", field="repo_type")
    if not folder.is_dir():
        raise LampkitError("not a folder", file=folder)
    if revision is not None and (not revision or COMMIT_SHA.fullmatch(revision)):
        raise LampkitError(f"a push goes to a branch name, not {revision!r}", field="revision")
    private = DEFAULT_PRIVATE[repo_type] if private is None else private
    token = token or get_token()
    if not token:
        raise LampkitError("no Hugging Face token: set HF_TOKEN, run `hf auth login`, or pass --token", field="token")
    api = HfApi(token=token)
    try:
        url = api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        if private and not api.repo_info(repo_id, repo_type=repo_type).private:
            raise LampkitError(
                f"{repo_type} repo {repo_id} already exists and is public; refusing a private push into it",
                field="private",
            )
        if revision not in (None, constants.DEFAULT_REVISION):
            api.create_branch(repo_id, branch=revision, repo_type=repo_type, exist_ok=True)
        api.upload_folder(
            repo_id=repo_id,
            folder_path=folder,
            repo_type=repo_type,
            revision=revision,
            commit_message=commit_message,
            delete_patterns=list(prune) or None,
        )
    except HfHubHTTPError as err:
        raise LampkitError(f"push to {repo_type} repo {repo_id} failed: {first_line(err)}", file=folder) from None
    except (httpx.TransportError, OSError) as err:
        raise unreachable(err) from None
    return str(url)


def download_repo(
    repo_id: str,
    *,
    repo_type: str,
    allow_patterns: list[str] | str | None = None,
    revision: str | None = None,
    token: str | None = None,
) -> Path:
    """Download ``repo_id`` at ``revision`` (a branch, tag or commit sha; default ``main``; only files matching
    ``allow_patterns``, if given) into the Hub cache; return its folder (``snapshots/<commit sha>``). A revision the
    repo does not have is a LampkitError naming the field ``revision``."""
    try:
        return Path(
            snapshot_download(
                repo_id,
                repo_type=repo_type,
                revision=revision,
                allow_patterns=allow_patterns,
                token=token,
            )
        )
    except RevisionNotFoundError:
        raise LampkitError(f"{repo_type} repo {repo_id} has no revision {revision!r} (a branch, tag or commit sha)",
                           field="revision") from None
    except (HfHubHTTPError, LocalEntryNotFoundError) as err:
        raise LampkitError(
            f"cannot download {repo_type} repo {repo_id} (private repos need HF_TOKEN): {first_line(err)}",
            field="repo_id",
        ) from None
    except (httpx.TransportError, OSError) as err:
        raise unreachable(err) from None
