"""What the LaMP and LongLaMP ``datasets`` builders share: the config type, a base builder whose configs,
features and card facts come from the task registry, and the digest of the code that makes rows."""

from __future__ import annotations

import hashlib
from pathlib import Path

import datasets

from .. import __version__
from .. import tasks
from ..records import features_for

_PACKAGE = Path(__file__).resolve().parents[1]
#: The modules (relative to the package) whose code decides the built rows; any change in them rebuilds.
ROW_CODE = ("tasks.py", "records.py", "rawjson.py", "outputs.py", "avocado.py", "builders/*.py")


def row_code_digest(package: Path = _PACKAGE, version: str = __version__) -> str:
    """sha256 of lampkit's version and the source of :data:`ROW_CODE` under ``package``: the builders' cache key
    (``datasets``' builder ``hash``), so a change in row-making code never serves rows cached by older code."""
    digest = hashlib.sha256(f"lampkit {version}".encode())
    for path in sorted({p for pattern in ROW_CODE for p in package.glob(pattern)}):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


ROW_CODE_DIGEST = row_code_digest()


class TaskConfig(datasets.BuilderConfig):
    """One task in one split kind. ``avocado_dir`` feeds the email tasks; ``source_fingerprint`` (local sources)
    and ``revision`` (the Hub commit of a Hub source) are part of the cache key, so changed sources rebuild."""

    def __init__(self, *, task_name: str, split_kind: str, avocado_dir: str | None = None,
                 source_fingerprint: str | None = None, revision: str | None = None, **kwargs):
        super().__init__(version=datasets.Version("1.0.0"), **kwargs)
        self.task_name = task_name
        self.split_kind = split_kind
        self.avocado_dir = avocado_dir
        self.source_fingerprint = source_fingerprint
        self.revision = revision


def task_configs(benchmark: str) -> list[TaskConfig]:
    """A config per task and split kind of ``benchmark``, named ``<task>_<kind>``."""
    return [TaskConfig(name=f"{task.name}_{kind}", task_name=task.name, split_kind=kind,
                       description=f"{task.title}, {kind} split.")
            for task in tasks.TASKS.values() if task.benchmark == benchmark
            for kind in task.split_kinds]


class TaskBuilder(datasets.GeneratorBasedBuilder):
    """Base of the benchmark builders: subclasses set ``BENCHMARK`` and ``BUILDER_CONFIGS`` and say which column,
    if any, identifies the user (:attr:`user_column`)."""

    BENCHMARK = ""
    BUILDER_CONFIG_CLASS = TaskConfig

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("hash", ROW_CODE_DIGEST)  # the cache folder's last part: rows of other code are not reused
        super().__init__(*args, **kwargs)
        self._record_checksums = True  # sha256 of every source file lands in info.download_checksums

    @classmethod
    def local_sources(cls, task: tasks.Task, kind: str, data_dir: Path) -> list[Path]:
        """The folders of a local copy that a config reads (their files make up its cache key)."""
        raise NotImplementedError

    @property
    def task(self) -> tasks.Task:
        return tasks.get_task(self.config.task_name)

    @property
    def user_column(self) -> str | None:
        return self.task.user_column(self.config.split_kind)

    def _info(self) -> datasets.DatasetInfo:
        bench = tasks.BENCHMARKS[self.BENCHMARK]
        return datasets.DatasetInfo(description=self.config.description,
                                    features=features_for(self.task, self.user_column),
                                    homepage=bench.homepage, license=bench.license, citation=bench.citation)
