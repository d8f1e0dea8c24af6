"""LaMP: the Large Language Model Personalization benchmark, as a ``datasets`` builder.

One config per task and split kind (``LaMP_1_user`` … ``LaMP_7_time``, ``LaMP_2N_user``, ``LaMP_2N_time``), read
from the official files (downloaded, or a local mirror given as ``data_dir``) and, for LaMP-6, from a local copy
of the Avocado corpus (``avocado_dir``). lampkit drives it (``lampkit build lamp``) and publishes Parquet, never
a loading script: ``datasets`` ≥ 4 does not run them. ``datasets/lamp/lamp.py`` in the checkout re-exports it.
"""

from __future__ import annotations

import os
from pathlib import Path

import datasets

from .. import avocado
from .. import tasks
from ..errors import LampkitError
from ..outputs import read_golds
from ..rawjson import iter_json_records
from ..records import normalize_question
from .base import TaskBuilder
from .base import task_configs

#: Raw split folder → published split name. Test outputs are withheld by the benchmark.
SPLITS = (("train", datasets.Split.TRAIN), ("dev", datasets.Split.VALIDATION), ("test", datasets.Split.TEST))


class Lamp(TaskBuilder):
    """LaMP, one config per task and split kind (``user``: users disjoint across splits; ``time``: split by date)."""

    BENCHMARK = "lamp"
    BUILDER_CONFIGS = task_configs("lamp")

    @classmethod
    def local_sources(cls, task: tasks.Task, kind: str, data_dir: Path) -> list[Path]:
        return [data_dir / Path(tasks.lamp_raw_path(task, kind, "train", "questions")).parents[1]]

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
