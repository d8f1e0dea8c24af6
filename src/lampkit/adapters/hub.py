"""Push an adapter folder to a Hub model repo (on ``main`` or a branch) and pull one back by repo id and revision (a
branch, tag or commit sha).

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
    branch ``revision`` (default ``main``; created from ``main`` when missing); returns the repo URL. Private
    unless ``public`` (or ``private=False`` for unlicensed data)."""
    from ..hub import push_folder
    from .checks import adapter_base

    adapter_base(folder)
    if public:
        private = False
    elif private is None or licensed:
        private = True
    try:
        return push_folder(folder, repo_id, repo_type="model", private=private, token=token, revision=revision,
                           commit_message="Upload adapter with lampkit")
    except LampkitError as err:
        if err.field == "revision":
            raise LampkitError(err.message, field="adapter_revision") from None
        raise


def pull_adapter(repo_id: str, revision: str | None = None, token: str | None = None) -> Path:
    """Download adapter repo ``repo_id`` at ``revision`` (a branch, tag or commit sha; default ``main``) into the Hub
    cache; returns its local folder. A missing repo or adapter is one LampkitError line naming the field
    ``adapter``, a missing revision one naming ``adapter_revision``."""
    from ..hub import download_repo
    from .checks import adapter_base

    try:
        folder = download_repo(repo_id, repo_type="model", revision=revision, token=token)
    except LampkitError as err:
        raise LampkitError(err.message, field="adapter_revision" if err.field == "revision" else "adapter") from None
    adapter_base(folder)
    return folder


def adapter_commit(folder: str | Path) -> str | None:
    """The commit sha a pulled adapter folder was downloaded at (its Hub-cache ``snapshots/<sha>`` folder), or
    None for a local folder."""
    from ..hub import COMMIT_SHA

    folder = Path(folder)
    if folder.parent.name == "snapshots" and COMMIT_SHA.fullmatch(folder.name):
        return folder.name
    return None


def resolve_adapter(adapter: str, revision: str | None = None, token: str | None = None) -> Path:
    """A local adapter folder, or a Hub repo id pulled at ``revision``; a missing folder is an error, not a
    download, and so is a revision given with a folder."""
    path = Path(adapter).expanduser()
    if path.exists() or adapter.startswith((".", "/", "~")) or adapter.count("/") != 1:
        if not path.is_dir():
            raise LampkitError("no such adapter folder", file=path, field="adapter")
        if revision is not None:
            raise LampkitError(f"a revision ({revision!r}) applies to a Hub repo id, not to a local folder",
                               file=path, field="adapter_revision")
        from .checks import adapter_base

        adapter_base(path)
        return path
    return pull_adapter(adapter, revision=revision, token=token)
