"""Push an adapter folder to a Hub model repo and pull one back by repo id and revision.

Adapters are private by default (as the dataset pushes are); adapters trained on licensed data
(:func:`lampkit.tasks.is_licensed`: LaMP-6, LongLaMP email) are private unless ``public=True`` is explicit.
Tokens go to ``huggingface_hub`` only and are never printed.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import LampkitError


def push_adapter(folder: str | Path, repo_id: str, *, private: bool | None = None, public: bool = False,
                 licensed: bool = False, token: str | None = None, revision: str | None = None) -> str:
    """Upload ``folder`` (adapter, tokenizer, ``README.md`` card) to model repo ``repo_id`` in one commit, on
    ``revision`` (a branch; default ``main``); returns the repo URL. Private unless ``public`` (or
    ``private=False`` for unlicensed data)."""
    from ..hub import push_folder
    from .checks import adapter_base

    adapter_base(folder)
    if public:
        private = False
    elif private is None or licensed:
        private = True
    if revision in (None, "main"):
        return push_folder(folder, repo_id, repo_type="model", private=private, token=token,
                           commit_message="Upload adapter with lampkit")
    return _push_branch(Path(folder), repo_id, private=private, token=token, revision=revision)


def _push_branch(folder: Path, repo_id: str, *, private: bool, token: str | None, revision: str) -> str:
    import httpx
    from huggingface_hub import HfApi
    from huggingface_hub import get_token
    from huggingface_hub.errors import HfHubHTTPError

    from ..hub import _unreachable
    from ..hub import check_repo_id
    from ..hub import first_line

    check_repo_id(repo_id)
    api = HfApi(token=token or get_token())
    try:
        url = api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        api.create_branch(repo_id, branch=revision, repo_type="model", exist_ok=True)
        api.upload_folder(repo_id=repo_id, folder_path=folder, repo_type="model", revision=revision,
                          commit_message="Upload adapter with lampkit")
    except HfHubHTTPError as err:
        raise LampkitError(f"push to model repo {repo_id} failed: {first_line(err)}", file=folder) from None
    except (httpx.TransportError, OSError) as err:
        raise _unreachable(err) from None
    return str(url)


def pull_adapter(repo_id: str, revision: str | None = None, token: str | None = None) -> Path:
    """Download adapter repo ``repo_id`` at ``revision`` into the Hub cache; returns its local folder. A missing
    repo, revision or adapter is one LampkitError line naming the field ``adapter``."""
    from ..hub import download_repo
    from .checks import adapter_base

    try:
        folder = download_repo(repo_id, repo_type="model", revision=revision, token=token)
    except LampkitError as err:
        raise LampkitError(err.message, field="adapter") from None
    adapter_base(folder)
    return folder


def resolve_adapter(adapter: str, revision: str | None = None, token: str | None = None) -> Path:
    """A local adapter folder, or a Hub repo id pulled at ``revision``; a missing folder is an error, not a
    download."""
    path = Path(adapter).expanduser()
    if path.exists() or adapter.startswith((".", "/", "~")) or adapter.count("/") != 1:
        if not path.is_dir():
            raise LampkitError("no such adapter folder", file=path, field="adapter")
        from .checks import adapter_base

        adapter_base(path)
        return path
    return pull_adapter(adapter, revision=revision, token=token)
