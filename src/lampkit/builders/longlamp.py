"""LongLaMP: personalized long-text generation, as a ``datasets`` builder.

Six public configs (``abstract_generation``, ``product_review``, ``topic_writing`` × ``user``/``temporal``) read
from the files of the Hub dataset repo ``LongLaMP/LongLaMP`` (fetched with ``huggingface_hub`` through the
``datasets`` download manager) or from a local copy of them (``data_dir``), and the two email-completion configs
(``email_generation_user``/``_temporal``) built from the email id files (``data_dir``) and a local copy of the
Avocado corpus (``avocado_dir``). lampkit drives it (``lampkit build longlamp``) and publishes Parquet, never
a loading script: ``datasets`` ≥ 4 does not run them. ``datasets/longlamp/longlamp.py`` in the checkout re-exports
it. Layout and tolerances: ``docs/longlamp.md``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import datasets
import huggingface_hub
import ijson
import pyarrow
import pyarrow.parquet

from .. import avocado
from .. import tasks
from ..errors import LampkitError
from ..rawjson import iter_json_records
from ..rawjson import open_json
from ..records import normalize_question
from .base import TaskBuilder
from .base import task_configs

#: Upstream split names (Hub files, then the email id files) → published split.
HUB_SPLITS = (("train", datasets.Split.TRAIN), ("val", datasets.Split.VALIDATION), ("test", datasets.Split.TEST))
EMAIL_SPLITS = (("train", datasets.Split.TRAIN), ("dev", datasets.Split.VALIDATION), ("test", datasets.Split.TEST))
#: Other names a local copy may use for the upstream ``val`` split.
_SPLIT_ALIASES = {"validation": "val", "dev": "val"}
_DATA_SUFFIXES = (".parquet", ".json", ".jsonl")
#: A data file's split: the first folder below the config folder, else the start of its name (``val-00000-of-…``).
_SPLIT_PREFIX = re.compile(r"^([a-z]+)(?=$|[-_.])")
_PARQUET_BATCH_ROWS = 16  # LongLaMP rows carry whole profiles (up to MBs each): keep batches small


class LongLamp(TaskBuilder):
    """LongLaMP, one config per task and split kind (``user``: users disjoint across splits; ``temporal``: by time)."""

    BENCHMARK = "longlamp"
    BUILDER_CONFIGS = task_configs("longlamp")

    @classmethod
    def source_revision(cls) -> str:
        """The current commit of the upstream Hub repo (what ``lampkit build`` pins a build and its cache to)."""
        return _hub_listing(tasks.LONGLAMP_REPO_ID)[1]

    @classmethod
    def local_sources(cls, task: tasks.Task, kind: str, data_dir: Path) -> list[Path]:
        return sorted(p for p in data_dir.rglob(config_folder(task, kind)) if p.is_dir())

    @property
    def folder(self) -> str:
        """The config's folder in the Hub repo and in a local copy, e.g. ``product_review_user``."""
        return config_folder(self.task, self.config.split_kind)

    def _split_generators(self, dl_manager: datasets.DownloadManager):
        if self.task.needs_avocado:
            return self._email_split_generators(dl_manager)
        sources = self._hub_sources()
        local = dl_manager.download(sources)
        return [
            datasets.SplitGenerator(name=name, gen_kwargs={"split": split,
                                                           "files": list(zip(sources[split], local[split]))})
            for split, name in HUB_SPLITS
        ]

    # -- public configs: the Hub repo's files -----------------------------------------------------------------

    def _hub_sources(self) -> dict[str, list[str]]:
        """``{upstream split: [source, ...]}``: paths in ``data_dir``, else ``hf://`` URLs pinned to a commit."""
        if self.config.data_dir:
            root = Path(self.config.data_dir)
            if not root.is_dir():
                raise LampkitError("local LongLaMP copy not found", file=root)
            files = [p.relative_to(root).as_posix() for p in sorted(root.rglob("*")) if p.is_file()]
            return self._by_split(files, lambda rel: str(root / rel), where=root)
        repo_files, commit = _hub_listing(tasks.LONGLAMP_REPO_ID, self.config.revision)
        prefix = f"hf://datasets/{tasks.LONGLAMP_REPO_ID}@{commit}/"
        return self._by_split(repo_files, lambda rel: prefix + rel, where=f"hf://datasets/{tasks.LONGLAMP_REPO_ID}")

    def _by_split(self, files: list[str], locate, *, where) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {split: [] for split, _ in HUB_SPLITS}
        copies = set()
        for rel in files:
            split = _split_of(rel, self.folder)
            if split in found:
                found[split].append(rel)
                parts = rel.split("/")
                copies.add("/".join(parts[:parts.index(self.folder) + 1]))
        if len(copies) > 1:  # each would add its rows: the splits would hold every question twice
            raise LampkitError(f"holds {len(copies)} copies of {self.folder} ({', '.join(sorted(copies))}); keep "
                               "one, or give the folder above one as --data-dir", file=where, field="data_dir")
        for split, rels in found.items():
            if not rels:
                raise LampkitError(f"no {split} data for {self.folder} (expected {self.folder}/{split}-NNNNN-of-NNNNN"
                                   f".parquet, or .json/.jsonl)", file=where, field=split)
            kinds = {os.path.splitext(rel)[1] == ".parquet" for rel in rels}
            if len(kinds) > 1:
                raise LampkitError(f"mixes Parquet and JSON files for one split: {', '.join(rels)}", file=where,
                                   field=split)
        return {split: [locate(rel) for rel in sorted(rels)] for split, rels in found.items()}

    def _generate_examples(self, split: str, files: list[tuple[str, str]] | None = None,
                           questions: str | None = None, emails: dict | None = None):
        if emails is not None:
            yield from self._email_examples(questions, emails)
            return
        seen = set()
        index = 0
        for source, path in files:
            for raw in _iter_rows(path, source):
                qid = str(raw["id"]) if raw.get("id") is not None else f"{split}-{index}"
                index += 1
                if qid in seen:
                    raise LampkitError("duplicate id", file=source, record=qid, field="id")
                seen.add(qid)
                output = raw.get("output")
                if not isinstance(output, str):
                    raise LampkitError("missing" if output is None else "expected a string", file=source,
                                       record=qid, field="output")
                yield qid, normalize_question(self.task, {**raw, "id": qid}, output=output, file=source,
                                              user_column=self.user_column)

    # -- email configs: id files + Avocado --------------------------------------------------------------------

    def _email_split_generators(self, dl_manager: datasets.DownloadManager):
        if not self.config.avocado_dir:
            raise LampkitError(f"{self.config.name} is built from the Avocado emails: {avocado.LDC_HINT}",
                               field="avocado_dir")
        if not self.config.data_dir:
            raise LampkitError(
                f"{self.config.name} also needs LongLaMP's email id files (Avocado basenames and content_length), "
                f"which are neither in {tasks.LONGLAMP_REPO_ID} on the Hub nor in the LongLaMP-Benchmark GitHub "
                f"repo; get them from the LongLaMP authors and pass --data-dir holding "
                f"{self.folder}/train_questions.json, dev_questions.json and test_questions.json", field="data_dir")
        sources = {}
        for split, _ in EMAIL_SPLITS:
            path = os.path.join(self.config.data_dir, self.folder, f"{split}_questions.json")
            if not os.path.isfile(path):
                raise LampkitError(f"email id file missing (expected at {self.folder}/{split}_questions.json)",
                                   file=path)
            sources[split] = path
        paths = dl_manager.download(sources)
        refs: dict = {}
        for split, _ in EMAIL_SPLITS:
            avocado.email_references(iter_json_records(paths[split]), file=paths[split], refs=refs)
        emails = avocado.read_emails(self.config.avocado_dir, refs)
        return [
            datasets.SplitGenerator(name=name, gen_kwargs={"split": split, "questions": paths[split],
                                                           "emails": emails})
            for split, name in EMAIL_SPLITS
        ]

    def _email_examples(self, questions: str, emails: dict):
        seen = set()
        for raw in iter_json_records(questions):
            row = avocado.longlamp_email_record(raw, emails, file=questions)
            qid = str(row["id"])
            if qid in seen:
                raise LampkitError("duplicate id", file=questions, record=qid, field="id")
            seen.add(qid)
            yield qid, normalize_question(self.task, row, output=row["output"], file=questions,
                                          user_column=self.user_column)


def _hub_listing(repo_id: str, revision: str | None = None) -> tuple[list[str], str]:
    """The files of a Hub dataset repo at ``revision`` (default: the current ``main`` commit), and that commit."""
    try:
        info = huggingface_hub.HfApi().dataset_info(repo_id, revision=revision)
    except Exception as err:  # offline, unknown repo, gated, server error: one line, then the way out
        raise LampkitError(f"cannot list the Hub dataset ({type(err).__name__}: {err}); pass --data-dir with a "
                           f"local copy of its files", file=f"hf://datasets/{repo_id}") from None
    return [s.rfilename for s in info.siblings or []], info.sha


def config_folder(task: tasks.Task, kind: str) -> str:
    """A config's folder in the Hub repo and in a local copy, e.g. ``product_review_user``."""
    return f"{task.raw_dir}_{kind}"


def _split_of(rel: str, folder: str) -> str | None:
    """The upstream split of a file at ``rel`` (repo-relative) if it is a data file of config ``folder``."""
    parts = rel.split("/")
    if not rel.endswith(_DATA_SUFFIXES) or folder not in parts[:-1]:
        return None
    below = parts[parts.index(folder) + 1:]
    if len(below) > 1:  # <config>/<split>/<file>
        name = below[0]
    else:  # <config>/<split>-NNNNN-of-NNNNN.parquet, <config>/<split>.jsonl, ...
        match = _SPLIT_PREFIX.match(below[0])
        name = match.group(1) if match else None
    return _SPLIT_ALIASES.get(name, name)


def _iter_rows(path: str, source: str) -> Iterator[dict]:
    """Stream the rows of one data file: Parquet, a JSON list, or JSON lines."""
    if not os.path.isfile(path):
        raise LampkitError("file not found", file=source)
    if source.endswith(".parquet"):
        yield from _parquet_rows(path, source)
    else:
        yield from _json_rows(path, source)


def _parquet_rows(path: str, source: str) -> Iterator[dict]:
    index = -1
    try:
        for batch in pyarrow.parquet.ParquetFile(path).iter_batches(batch_size=_PARQUET_BATCH_ROWS):
            for row in batch.to_pylist():
                index += 1
                yield row
    except (pyarrow.ArrowException, OSError) as err:
        raise LampkitError(f"unreadable Parquet ({err})", file=source,
                           record=f"after #{index}" if index >= 0 else None) from None


def _json_rows(path: str, source: str) -> Iterator[dict]:
    with open_json(path) as f:
        head = f.read(4096).lstrip()
    if not head:
        raise LampkitError("empty file", file=source)
    if head.startswith(b"["):
        yield from iter_json_records(path)
        return
    index = -1
    with open_json(path) as f:
        try:
            for index, row in enumerate(ijson.items(f, "", multiple_values=True, use_float=True)):
                if not isinstance(row, dict):
                    raise LampkitError(f"expected a JSON object, got {type(row).__name__}", file=source,
                                       record=f"#{index}")
                yield row
        except ijson.JSONError as err:
            raise LampkitError(f"malformed or truncated JSON ({err})", file=source,
                               record=f"after #{index}" if index >= 0 else "#0") from None
