"""Upload a folder to the Hugging Face Hub and download a repo from it, through ``huggingface_hub``.

The endpoint is ``HF_ENDPOINT`` (default https://huggingface.co). The token, when not given, is the one
``huggingface_hub`` finds (``HF_TOKEN``, then ``hf auth login``). Tokens are never printed, logged or written.
"""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import HfApi
from huggingface_hub import snapshot_download
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.errors import HFValidationError
from huggingface_hub.errors import LocalEntryNotFoundError
from huggingface_hub.utils import get_token
from huggingface_hub.utils import validate_repo_id

from lampkit.errors import LampkitError

#: Visibility of a new repo when ``private`` is not given: datasets are public, models (per-user adapters) private.
DEFAULT_PRIVATE = {"dataset": False, "model": True}


def check_repo_id(repo_id: str) -> str:
    """Return ``repo_id`` if it is ``ORG/NAME`` and valid on the Hub, else raise LampkitError."""
    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise LampkitError(f"not a valid Hub repo id ({err})", field="repo_id") from None
    if repo_id.count("/") != 1:
        raise LampkitError(f"repo id {repo_id!r} must be ORG/NAME", field="repo_id")
    return repo_id


def _first_line(err: Exception) -> str:
    return next((line.strip() for line in str(err).splitlines() if line.strip()), type(err).__name__)


def push_folder(
    folder: str | Path,
    repo_id: str,
    *,
    repo_type: str = "dataset",
    private: bool | None = None,
    token: str | None = None,
    commit_message: str = "Upload with lampkit push",
    prune: tuple[str, ...] = (),
) -> str:
    """Create ``repo_id`` if needed and upload ``folder`` to it in one commit; return the repo URL.

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
        api.upload_folder(
            repo_id=repo_id,
            folder_path=folder,
            repo_type=repo_type,
            commit_message=commit_message,
            delete_patterns=list(prune) or None,
        )
    except HfHubHTTPError as err:
        raise LampkitError(f"push to {repo_type} repo {repo_id} failed: {_first_line(err)}", file=folder) from None
    return str(url)


def download_repo(
    repo_id: str,
    *,
    repo_type: str,
    allow_patterns: list[str] | str | None = None,
    revision: str | None = None,
    token: str | None = None,
) -> Path:
    """Download ``repo_id`` (only files matching ``allow_patterns``, if given) into the Hub cache; return its folder."""
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
    except (HfHubHTTPError, LocalEntryNotFoundError) as err:
        raise LampkitError(
            f"cannot download {repo_type} repo {repo_id} (private repos need HF_TOKEN): {_first_line(err)}",
            field="repo_id",
        ) from None
