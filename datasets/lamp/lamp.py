"""LaMP: the Large Language Model Personalization benchmark, as a ``datasets`` builder.

One config per task and split kind (``LaMP_1_user`` … ``LaMP_7_time``, ``LaMP_2N_user``, ``LaMP_2N_time``), read
from the official files (downloaded, or a local mirror given as ``data_dir``) and, for LaMP-6, from a local copy
of the Avocado corpus (``avocado_dir``). lampkit drives it (``lampkit build lamp``) and publishes Parquet, never
this script: ``datasets`` ≥ 4 does not run loading scripts.
"""

from __future__ import annotations

import os

import datasets

from lampkit import avocado, tasks
from lampkit.errors import LampkitError
from lampkit.rawjson import iter_json_records, read_golds
from lampkit.records import features_for, normalize_question

_CITATION = """\
@inproceedings{salemi-etal-2024-lamp,
    title = "{L}a{MP}: When Large Language Models Meet Personalization",
    author = "Salemi, Alireza and Mysore, Sheshera and Bendersky, Michael and Zamani, Hamed",
    booktitle = "Proceedings of the 62nd Annual Meeting of the Association for Computational Linguistics",
    year = "2024",
    note = "arXiv:2304.11406",
}
"""
_HOMEPAGE = "https://lamp-benchmark.github.io"
_LICENSE = ("LaMP's code and data-creation methods are CC BY-NC-SA 4.0; each dataset keeps its source's license "
            "(LaMP-6 needs an LDC licence for Avocado, LDC2015T03).")

#: Raw split folder → published split name. Test outputs are withheld by the benchmark.
SPLITS = (("train", datasets.Split.TRAIN), ("dev", datasets.Split.VALIDATION), ("test", datasets.Split.TEST))


class LampConfig(datasets.BuilderConfig):
    """A LaMP task in one split kind (``user``: users disjoint across splits; ``time``: split by date)."""

    def __init__(self, *, task_name: str, split_kind: str, avocado_dir: str | None = None,
                 source_fingerprint: str | None = None, **kwargs):
        super().__init__(version=datasets.Version("1.0.0"), **kwargs)
        self.task_name = task_name
        self.split_kind = split_kind
        self.avocado_dir = avocado_dir
        self.source_fingerprint = source_fingerprint  # changes the cache key when local sources change


class Lamp(datasets.GeneratorBasedBuilder):
    """LaMP, one config per task and split kind."""

    BUILDER_CONFIG_CLASS = LampConfig
    BUILDER_CONFIGS = [
        LampConfig(name=f"{task.name}_{kind}", task_name=task.name, split_kind=kind,
                   description=f"{task.title}, {kind}-based split.")
        for task in tasks.LAMP_TASKS
        for kind in task.split_kinds
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._record_checksums = True  # sha256 of every source file lands in info.download_checksums

    @property
    def task(self) -> tasks.Task:
        return tasks.get_task(self.config.task_name)

    @property
    def user_column(self) -> str | None:
        return "user_id" if self.config.split_kind == "time" else None

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=self.config.description,
            features=features_for(self.task, self.user_column),
            homepage=_HOMEPAGE,
            license=_LICENSE,
            citation=_CITATION,
        )

    def _source(self, split: str, part: str) -> str:
        rel = tasks.lamp_raw_path(self.task, self.config.split_kind, split, part)
        if self.config.data_dir:
            path = os.path.join(self.config.data_dir, rel)
            if not os.path.isfile(path):
                raise LampkitError(f"missing from the local mirror (expected at {rel})", file=path)
            return path
        return f"{tasks.LAMP_BASE_URL}/{rel}"

    def _split_generators(self, dl_manager: datasets.DownloadManager):
        has_outputs = not self.task.needs_avocado  # LaMP-6 outputs are the Avocado subjects
        sources = {
            split: {"questions": self._source(split, "questions"),
                    **({"outputs": self._source(split, "outputs")} if has_outputs and split != "test" else {})}
            for split, _ in SPLITS
        }
        paths = dl_manager.download(sources)
        emails = self._avocado_emails([paths[split]["questions"] for split, _ in SPLITS]) \
            if self.task.needs_avocado else None
        return [
            datasets.SplitGenerator(name=name, gen_kwargs={"questions": paths[split]["questions"],
                                                           "outputs": paths[split].get("outputs"),
                                                           "emails": emails, "withheld": split == "test"})
            for split, name in SPLITS
        ]

    def _avocado_emails(self, question_files: list[str]) -> dict:
        """Read, once, every Avocado email that any split's questions name."""
        refs = {}
        for path in question_files:
            avocado.email_references(iter_json_records(path), file=path, refs=refs)
        return avocado.read_emails(self.config.avocado_dir, refs)

    def _generate_examples(self, questions: str, outputs: str | None, emails: dict | None, withheld: bool):
        golds = read_golds(outputs) if outputs else None
        seen = set()
        for raw in iter_json_records(questions):
            if emails is not None:
                raw = avocado.lamp6_record(raw, emails, file=questions)
            qid = str(raw.get("id"))
            if qid in seen:
                raise LampkitError("duplicate id", file=questions, record=qid, field="id")
            seen.add(qid)
            if withheld:
                output = None
            elif emails is not None:
                output = raw["output"]
            elif qid in golds:
                output = golds.pop(qid)
            else:
                raise LampkitError(f"question has no output in {outputs}", file=questions, record=qid,
                                   field="output")
            yield qid, normalize_question(self.task, raw, output=output, file=questions,
                                          user_column=self.user_column)
        if golds:
            extra = ", ".join(sorted(golds)[:5])
            raise LampkitError(f"{len(golds)} output(s) have no question (e.g. {extra})", file=outputs,
                               record=next(iter(sorted(golds))), field="id")
