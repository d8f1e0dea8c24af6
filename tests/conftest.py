"""Shared fixtures. ``hub``: a local Hub-protocol server on 127.0.0.1 that the real clients talk to."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest

#: The tests never read or fill the user's ``datasets`` cache: each session gets its own (children inherit it).
os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="lampkit-tests-datasets-")
#: The tests' shared helper modules (``recipe_helpers``, ``prompt_tokenizers``) import by name.
sys.path.insert(0, str(Path(__file__).parent))

_SPEC = importlib.util.spec_from_file_location("lampkit_tests_hub_server", Path(__file__).with_name("hub_server.py"))
hub_server = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(hub_server)

#: Installed as ``sitecustomize`` on the PYTHONPATH of every child process: the same network guard as in-process.
_SITECUSTOMIZE = f"""\
import importlib.util, os
_spec = importlib.util.spec_from_file_location("lampkit_tests_hub_server", {str(_SPEC.origin)!r})
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
_mod.NetworkGuard(os.environ["LAMPKIT_NETGUARD_LOG"]).__enter__()
"""

#: Hosts the clients may try and are refused without complaint: ``datasets`` derives its dataset-viewer URL from
#: HF_ENDPOINT (``http://datasets-server.127.0.0.1:PORT``); the guard refuses it before any DNS query.
_EXPECTED_REFUSALS = ("datasets-server.",)

#: Environment variables that could point the clients at a real cache, token or Hub; removed for the test.
_CLEARED = (
    "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_ASSETS_CACHE",
    "HUGGINGFACE_ASSETS_CACHE", "HF_XET_CACHE", "HF_DATASETS_CACHE", "HF_MODULES_CACHE", "TRANSFORMERS_CACHE",
    "HF_DATASETS_DOWNLOADED_DATASETS_PATH", "HF_DATASETS_EXTRACTED_DATASETS_PATH", "TRANSFORMERS_OFFLINE",
    "HF_HUB_ENABLE_HF_TRANSFER",
)


@dataclass
class LocalHub:
    """A running local Hub. ``url`` is HF_ENDPOINT; ``token`` can write (user ``lampkit-tester``), ``other_token``
    is a valid token of another user (``stranger``); ``root`` is where repos are stored; ``server.requests`` and
    ``server.unhandled`` are the in-memory request logs."""

    url: str
    token: str
    other_token: str
    root: Path
    server: object
    tmp: Path
    guard: object
    guard_log: Path
    env: dict = field(default_factory=dict)
    _homes: int = 0

    def fresh_env(self, token: str | None = None) -> dict:
        """``os.environ`` for a child process with its own empty HF_HOME (nothing cached), and HF_TOKEN if given."""
        self._homes += 1
        env = dict(os.environ, HF_HOME=str(self.tmp / f"hf_home_{self._homes}"))
        if token is not None:
            env["HF_TOKEN"] = token
        return env

    def python(self, code: str, *args: str, token: str | None = None, check=True) -> subprocess.CompletedProcess:
        """Run ``python -c code *args`` in a fresh process and cache (see ``fresh_env``); returns the finished
        process (stdout and stderr captured as text), raising if it failed and ``check``."""
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], env=self.fresh_env(token), capture_output=True, text=True, timeout=120
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"child failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def refused_hosts(self) -> list[str]:
        """Every host a network access was refused for, in this process and in child processes so far."""
        logged = self.guard_log.read_text().split() if self.guard_log.exists() else []
        return self.guard.blocked + logged


def _serve(tmp_path_factory, monkeypatch: pytest.MonkeyPatch):
    """Start the server, point the clients at it, guard the network; yield a LocalHub; check the guard's log."""
    import datasets.config
    import huggingface_hub.constants as hf_constants
    from huggingface_hub import HfFileSystem

    tmp = tmp_path_factory.mktemp("local_hub")
    root, home, sitedir = tmp / "repos", tmp / "hf_home", tmp / "site"
    sitedir.mkdir()
    (sitedir / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    guard_log = tmp / "refused_hosts.log"
    server = hub_server.HubServer(root).start()

    env = {
        "HF_ENDPOINT": server.url,
        "HF_HOME": str(home),
        "HF_HUB_OFFLINE": "0",
        "HF_DATASETS_OFFLINE": "0",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_UPDATE_DOWNLOAD_COUNTS": "0",
        "HF_HUB_DISABLE_UPDATE_CHECK": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "LAMPKIT_NETGUARD_LOG": str(guard_log),
        "PYTHONPATH": os.pathsep.join(p for p in (str(sitedir), os.environ.get("PYTHONPATH")) if p),
    }
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    hub_cache = str(home / "hub")
    for name, value in {
        "ENDPOINT": server.url,
        "HUGGINGFACE_CO_URL_TEMPLATE": server.url + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HOME": str(home),
        "HF_HUB_CACHE": hub_cache,
        "HUGGINGFACE_HUB_CACHE": hub_cache,
        "HF_ASSETS_CACHE": str(home / "assets"),
        "HUGGINGFACE_ASSETS_CACHE": str(home / "assets"),
        "HF_XET_CACHE": str(home / "xet"),
        "HF_TOKEN_PATH": str(home / "token"),
        "HF_STORED_TOKENS_PATH": str(home / "stored_tokens"),
        "HF_HUB_OFFLINE": False,
        "HF_HUB_DISABLE_TELEMETRY": True,
    }.items():
        monkeypatch.setattr(hf_constants, name, value)
    datasets_cache = home / "datasets"
    for name, value in {
        "HF_ENDPOINT": server.url,
        "HUB_DATASETS_URL": server.url + "/datasets/{repo_id}/resolve/{revision}/{path}",
        "HF_CACHE_HOME": str(home),
        "HF_DATASETS_CACHE": datasets_cache,
        "HF_MODULES_CACHE": home / "modules",
        "DOWNLOADED_DATASETS_PATH": datasets_cache / "downloads",
        "EXTRACTED_DATASETS_PATH": datasets_cache / "downloads" / "extracted",
        "HF_HUB_OFFLINE": False,
        "HF_DATASETS_OFFLINE": False,
        "HF_UPDATE_DOWNLOAD_COUNTS": False,
        "USE_PARQUET_EXPORT": False,  # in-process only: no dataset-viewer lookup at all
    }.items():
        monkeypatch.setattr(datasets.config, name, value)

    HfFileSystem.clear_instance_cache()
    with hub_server.NetworkGuard() as guard:
        local = LocalHub(
            url=server.url,
            token="hf_lampkitLocalHubWriteToken0001",
            other_token="hf_lampkitLocalHubOtherToken0002",
            root=root,
            server=server,
            tmp=tmp,
            guard=guard,
            guard_log=guard_log,
            env=env,
        )
        assert local.token in server.tokens and local.other_token in server.tokens
        try:
            yield local
        finally:
            HfFileSystem.clear_instance_cache()
            server.stop()
    unexpected = [h for h in local.refused_hosts() if not h.startswith(_EXPECTED_REFUSALS)]
    assert not unexpected, f"network access attempted (and refused): {sorted(set(unexpected))}"


@pytest.fixture
def hub(tmp_path_factory, monkeypatch):
    """A local Hub for one test; this process and its children reach it, and nothing but loopback.

    - Environment (inherited by subprocesses, so ``lampkit push``, ``load_dataset``, ``snapshot_download`` in a child
      use the local Hub exactly as a user's shell would): ``HF_ENDPOINT``, an empty temp ``HF_HOME``,
      ``HF_HUB_OFFLINE=0``, telemetry, download counts, update checks and progress bars off; any ``HF_TOKEN`` and
      cache variables removed (pass a token explicitly, or use ``hub.python(code, token=hub.token)``).
    - This process: the module constants that ``huggingface_hub`` and ``datasets`` read from the environment at import
      time are patched the same way, so ``snapshot_download``/``hf_hub_download``/``load_dataset`` called in the test
      itself reach the local Hub and cache under the temp ``HF_HOME``.
    - Network guard: while the fixture is active, this process and every Python child refuse any host other than
      loopback; at teardown the test fails if anything but the expected dataset-viewer lookup was refused.

    Yields a ``LocalHub``: ``.url``, ``.token`` (writes; user ``lampkit-tester``), ``.other_token`` (user
    ``stranger``), ``.root``, ``.server`` (``.requests``, ``.commits``, ``.unhandled``), ``.fresh_env()``,
    ``.python(code, *args, token=)``. Push with ``lampkit.hub.push_folder(folder, "org/name", token=hub.token)``.
    """
    yield from _serve(tmp_path_factory, monkeypatch)


@pytest.fixture
def offline_error(tmp_path):
    """``offline_error(code)``: the exit status and last stderr line of ``python -c code`` run with the Hub offline
    (``HF_HUB_OFFLINE=1``), an empty ``HF_HOME`` and no other ``HF_*`` variable."""
    def run(code: str) -> tuple[int, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env={**env, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"})
        return done.returncode, done.stderr.splitlines()[-1]
    return run


@pytest.fixture(scope="module")
def hub_module(tmp_path_factory):
    """The ``hub`` fixture shared by all tests of a module (upload once, read in many tests)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from _serve(tmp_path_factory, monkeypatch)


def _sample_texts() -> list[str]:
    """Every string in the shipped LaMP sample questions: the corpus the tiny tokenizers are trained on."""
    import json

    texts = []

    def walk(value):
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for path in sorted((Path(__file__).parents[1] / "samples" / "lamp").rglob("*.json")):
        walk(json.loads(path.read_text()))
    return texts


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory) -> str:
    """A folder with a tiny random Llama (causal LM, chat template) and a BPE tokenizer trained on the sample."""
    from lampkit.modeling.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny_llama"), "llama", texts=_sample_texts())


@pytest.fixture(scope="session")
def tiny_t5(tmp_path_factory) -> str:
    """A folder with a tiny random T5 (encoder-decoder) and a BPE tokenizer trained on the sample."""
    from lampkit.modeling.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny_t5"), "t5", texts=_sample_texts())
