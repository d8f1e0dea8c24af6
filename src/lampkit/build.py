"""``lampkit build``: run a benchmark's ``datasets`` builder and write a Hub-ready dataset folder.

The folder holds ``data/<config>/<split>-NNNNN-of-NNNNN-<digest>.parquet``, a ``README.md`` dataset card whose
YAML ``configs:`` lets stock ``datasets.load_dataset(folder, config)`` read it, and ``lampkit.json``, the
machine-readable build record (sources, stats, ranking columns) the card is rendered from. It is written to
a temporary sibling folder and renamed into place, so an error never leaves it half-written.

``<digest>`` is a digest of the split's Parquet bytes, named in the card's ``data_files``: stock ``datasets`` keys
its cache of a local folder by the card's YAML only (not by the files' contents or mtimes), so without it a folder
rebuilt with other rows at the same path would load the old rows from the user's cache.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import datasets
import pyarrow.compute as pc

from . import __version__
from . import card
from . import stats
from .atomic import replace_dir
from .builders import builder_class
from .errors import LampkitError
from .tasks import parse_config_name

BUILD_RECORD = "lampkit.json"
#: What each config's entry of the build record holds.
_RECORD_KEYS = {"benchmark", "task", "split_kind", "splits", "sources", "rankings"}
SHARD_BYTES = 500 * 2**20
#: Hex digits of the content digest in shard names (as ``datasets`` 2.x ``push_to_hub`` named its shards).
DIGEST_CHARS = 16
DEFAULT_CACHE = Path(os.environ.get("LAMPKIT_CACHE", Path.home() / ".cache" / "lampkit"))


@dataclass
class BuildOptions:
    """Where the sources are and what to add; ``rankers`` names ranking columns (see :mod:`lampkit.retrieval`)."""

    data_dir: str | None = None
    avocado_dir: str | None = None
    cache_dir: Path = DEFAULT_CACHE
    rankers: list[str] = field(default_factory=list)
    dense_model: str | None = None
    dense_pooling: str | None = None
    dense_similarity: str | None = None
    dense_max_length: int | None = None
    use_date: bool = False
    num_proc: int | None = None


def config_names(benchmark: str) -> list[str]:
    return [c.name for c in builder_class(benchmark).BUILDER_CONFIGS]


def _fingerprint(*dirs: Path | None) -> str | None:
    """Cheap identity of local source trees (path, size, mtime of each file): a changed file changes the cache key."""
    entries = []
    for root in filter(None, dirs):
        for dirpath, _, files in sorted(os.walk(root)):
            for name in sorted(files):
                path = os.path.join(dirpath, name)
                st = os.stat(path)
                entries.append((path, st.st_size, st.st_mtime_ns))
    return datasets.fingerprint.Hasher.hash(entries) if entries else None


def prepare(benchmark: str, config: str, options: BuildOptions) -> tuple[datasets.DatasetDict, dict]:
    """Build (or reuse from cache) one config; returns its splits and the sources ``{url_or_path: sha256}``."""
    cls = builder_class(benchmark)
    if config not in {c.name for c in cls.BUILDER_CONFIGS}:
        raise LampkitError(f"unknown {benchmark} config {config!r}; known: {', '.join(config_names(benchmark))}")
    task, kind = parse_config_name(config)
    data_dir = Path(options.data_dir).resolve() if options.data_dir else None
    avocado_dir = Path(options.avocado_dir).resolve() if options.avocado_dir and task.needs_avocado else None
    kwargs = {"source_fingerprint": _fingerprint(*(cls.local_sources(task, kind, data_dir) if data_dir else []),
                                                 avocado_dir)}
    if not options.data_dir and not task.needs_avocado and hasattr(cls, "source_revision"):
        kwargs["revision"] = cls.source_revision()  # a Hub source: cache per upstream commit
    if avocado_dir:
        kwargs["avocado_dir"] = str(avocado_dir)
    if data_dir:
        kwargs["data_dir"] = str(data_dir)
    builder = cls(config_name=config, cache_dir=str(Path(options.cache_dir) / "datasets"), **kwargs)
    try:
        builder.download_and_prepare()
    except datasets.exceptions.DatasetGenerationError as err:
        cause = err.__cause__ or err.__context__
        if isinstance(cause, LampkitError):
            raise cause from None
        raise
    except FileNotFoundError as err:
        raise LampkitError(f"source file not found ({err})", record=config) from None
    splits = builder.as_dataset()
    sources = {_relative_source(url, options.data_dir): info["checksum"]
               for url, info in (builder.info.download_checksums or {}).items()}
    return splits, sources


def _relative_source(source: str, data_dir: str | None) -> str:
    """A local source as its path inside the mirror (the same path as on the download server)."""
    if data_dir and not source.startswith(("http://", "https://")):
        return "local:" + Path(os.path.relpath(source, Path(data_dir).resolve())).as_posix()
    return source


def add_rankings(splits: datasets.DatasetDict, config: str,
                 options: BuildOptions) -> tuple[datasets.DatasetDict, dict]:
    """Add the requested ranking columns to every split (in one call, so texts the splits share are embedded once);
    returns the splits and the columns' card metadata."""
    if not options.rankers:
        return splits, {}
    from .retrieval import add_ranking_columns

    task, _ = parse_config_name(config)
    try:
        return add_ranking_columns(splits, task, options.rankers, dense_model=options.dense_model,
                                   dense_pooling=options.dense_pooling, dense_similarity=options.dense_similarity,
                                   dense_max_length=options.dense_max_length, use_date=options.use_date,
                                   num_proc=options.num_proc)
    except LampkitError as err:  # a question's error: say which config and split hold it
        if err.file is not None or err.record is None:
            raise
        where = next((name for name, split in splits.items() if err.record in split["id"]), None)
        raise LampkitError(err.message, file=f"{config} {where} split" if where else config, record=err.record,
                           field=err.field) from None


def empty_profile_fields(split: datasets.Dataset, task) -> dict[str, int]:
    """Per required profile field of ``task``, how many items of ``split`` have it empty: null, missing or ``""``
    in the raw file (the builder keeps such items with ``""``; see :func:`lampkit.records.normalize_question`)."""
    items = pc.list_flatten(split.data.table["profile"])
    counts = {}
    for f in task.profile_fields:
        if f.required and f.dtype == "string":
            values = pc.struct_field(items, f.name)
            counts[f.name] = values.null_count + (pc.sum(pc.equal(values, "")).as_py() or 0)
    return counts


def write_split(split: datasets.Dataset, folder: Path, name: str) -> tuple[list[str], str]:
    """Write one split as Parquet shards of at most ~500 MB named ``<name>-NNNNN-of-NNNNN-<digest>.parquet``, with
    ``digest`` the first :data:`DIGEST_CHARS` hex digits of a sha256 over the shards' bytes; returns the file names
    and the digest. Other rows give other names, so the card's ``data_files`` (and ``datasets``' cache key) change."""
    folder.mkdir(parents=True, exist_ok=True)
    num = max(1, math.ceil(split.data.nbytes / SHARD_BYTES))
    digest = hashlib.sha256()
    stems = [f"{name}-{i:05d}-of-{num:05d}" for i in range(num)]
    for i, stem in enumerate(stems):
        path = folder / f".{stem}.parquet"  # hidden until renamed with the digest of all the shards
        split.shard(num, i, contiguous=True).to_parquet(str(path))
        with open(path, "rb") as f:
            digest.update(hashlib.file_digest(f, "sha256").digest())
    short = digest.hexdigest()[:DIGEST_CHARS]
    names = [f"{stem}-{short}.parquet" for stem in stems]
    for stem, fname in zip(stems, names):
        os.replace(folder / f".{stem}.parquet", folder / fname)
    return names, short


def shard_paths(out: str | Path, config: str, split: str) -> list[Path]:
    """The Parquet shards of ``split`` of ``config`` in the built folder ``out``, as its build record lists them."""
    out = Path(out)
    built = read_record(out)["configs"].get(config)
    if built is None or split not in built["splits"]:
        raise LampkitError(f"no split {split!r} of config {config!r} in this built folder", file=out)
    return [out / "data" / config / f for f in built["splits"][split]["files"]]


def read_record(out: Path) -> dict:
    """The build record of a built folder (empty when there is none)."""
    path = out / BUILD_RECORD
    if not path.is_file():
        return {"configs": {}}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:  # not UTF-8, not JSON
        raise LampkitError(f"corrupt build record ({err}); remove the folder to rebuild", file=path) from None
    if not _record_shape(record):
        raise LampkitError("corrupt build record (not the shape lampkit writes); remove the folder to rebuild",
                           file=path)
    return record


def _record_shape(record: object) -> bool:
    """Whether ``record`` is shaped as :func:`build` writes it, so the card and ``show`` can read it."""
    if not isinstance(record, dict) or not isinstance(record.get("configs"), dict):
        return False
    for built in record["configs"].values():
        if not isinstance(built, dict) or not _RECORD_KEYS <= set(built) or not isinstance(built["splits"], dict):
            return False
        if not all(isinstance(split, dict) and isinstance(split.get("files"), list)
                   for split in built["splits"].values()):
            return False
    return True


def build(benchmark: str, configs: list[str], out: str | Path, options: BuildOptions) -> Path:
    """Build ``configs`` into the Hub-ready folder ``out``: configs already there and not rebuilt are kept."""
    out = Path(out)
    if out.is_symlink():  # build the folder it points to (the rename would replace the link with a folder)
        out = out.resolve()
    if out.exists() and not (out / BUILD_RECORD).is_file():
        if any(out.iterdir()):
            raise LampkitError("exists and is not a lampkit dataset folder; choose another --out", file=out)
    record = read_record(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))  # a sibling: the rename stays on one disk
    try:
        if out.exists():  # keep the other configs: hard links, since built files are never changed in place
            shutil.copytree(out, tmp, dirs_exist_ok=True, copy_function=_link_or_copy,
                            ignore=_rebuilt(out, configs))
        for config in configs:
            splits, sources = prepare(benchmark, config, options)
            splits, rankings = add_rankings(splits, config, options)
            task, kind = parse_config_name(config)
            written = {name: write_split(split, tmp / "data" / config, name) for name, split in splits.items()}
            record["configs"][config] = {
                "benchmark": benchmark, "task": task.name, "split_kind": kind,
                "splits": {name: {"files": written[name][0], "digest": written[name][1],
                                  **stats.split_stats(split, task),
                                  "empty_profile_fields": empty_profile_fields(split, task)}
                           for name, split in splits.items()},
                "sources": sources, "rankings": rankings, "lampkit_version": __version__,
            }
        (tmp / BUILD_RECORD).write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
        (tmp / "README.md").write_text(card.render_dataset_card(record), encoding="utf-8")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _rebuilt(out: Path, configs: list[str]):
    """The ``copytree`` filter that leaves out what a build of ``configs`` writes anew: the card and the record at
    the top, ``data/<config>`` for each; a user's file of the same name deeper down is kept."""
    def ignore(folder: str, names: list[str]) -> set[str]:
        if Path(folder) == out:
            return {"README.md", BUILD_RECORD} & set(names)
        if Path(folder) == out / "data":
            return set(configs) & set(names)
        return set()
    return ignore


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # a filesystem without hard links
        shutil.copy2(src, dst)
