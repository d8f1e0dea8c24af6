"""Per-user adapters on the Hub, private by default. Layouts: ``repo`` (default): one private model repo per user,
``<org>/<prefix>-<user hash>``, so each user's adapter can be shared, gated or deleted on its own (a user's
removal request is one repo deletion, and no repo lists the other users); ``folder``: one private repo
``<org>/<prefix>`` with a folder per user hash (fewer repos; access is all-or-nothing)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import LampkitError
from ..hub import check_repo_id
from ..hub import download_repo
from ..hub import first_line
from ..hub import push_folder
from ..hub import unreachable
from .store import CONFIG_NAME
from .store import RECORD_NAME

LAYOUTS = ("repo", "folder")


def repo_id_for(name: str, *, org: str, prefix: str, layout: str = "repo") -> str:
    """The repo that holds the adapter of user hash ``name``."""
    if layout not in LAYOUTS:
        raise LampkitError(f"unknown hub layout {layout!r}; choose from {', '.join(LAYOUTS)}", field="hub_layout")
    return check_repo_id(f"{org}/{prefix}-{name}" if layout == "repo" else f"{org}/{prefix}")


def push_user_adapter(folder: str | os.PathLike, *, org: str, prefix: str, layout: str = "repo",
                      private: bool = True, token: str | None = None) -> str:
    """Push one complete adapter folder (named by its user hash); returns the repo URL."""
    import shutil
    import tempfile

    folder = Path(folder)
    repo_id = repo_id_for(folder.name, org=org, prefix=prefix, layout=layout)
    if layout == "repo":
        return push_folder(folder, repo_id, repo_type="model", private=private, token=token,
                           commit_message=f"Upload the adapter of user {folder.name}")
    with tempfile.TemporaryDirectory(prefix=".push-", dir=folder.parent) as staging:
        shutil.copytree(folder, Path(staging) / folder.name)
        return push_folder(staging, repo_id, repo_type="model", private=private, token=token,
                           commit_message=f"Upload the adapter of user {folder.name}")


def pull_user_adapter(name: str, *, org: str, prefix: str, layout: str = "repo", revision: str | None = None,
                      token: str | None = None) -> Path | None:
    """The local folder of user hash ``name``'s adapter at ``revision`` (a branch, tag or commit sha; default
    ``main``), downloaded into the Hub cache; None when the Hub has none there (no repo, no such revision, or no
    complete adapter in it)."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError
    from huggingface_hub.errors import RepositoryNotFoundError
    from huggingface_hub.errors import RevisionNotFoundError
    from huggingface_hub.utils import httpx

    repo_id = repo_id_for(name, org=org, prefix=prefix, layout=layout)
    api = HfApi(token=token)
    try:
        files = api.list_repo_files(repo_id, repo_type="model", revision=revision)
    except (RepositoryNotFoundError, RevisionNotFoundError):  # also a private repo without a token (401)
        return None
    except HfHubHTTPError as err:
        raise LampkitError(f"cannot list model repo {repo_id}: {first_line(err)}", field="user_adapters") from None
    except (httpx.TransportError, OSError) as err:  # OSError: offline mode (OfflineModeIsEnabled) too
        raise unreachable(err, field="user_adapters") from None
    inside = "" if layout == "repo" else f"{name}/"
    if f"{inside}{RECORD_NAME}" not in files or f"{inside}{CONFIG_NAME}" not in files:
        return None
    root = download_repo(repo_id, repo_type="model", allow_patterns=[f"{inside}*"] if inside else None,
                         revision=revision, token=token)
    return root / inside if inside else root
