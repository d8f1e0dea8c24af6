"""Adapter model cards: Jinja templates shipped as package data (``lampkit/templates/adapters/<name>.md``; the
checkout's ``adapters_card_templates/`` links to them), rendered as ``huggingface_hub.ModelCard.from_template``
renders them (:func:`from_template`, which compiles each template once per process: OPPU writes a card per user).

The card holds the training settings, the PEFT config, training figures and ``model-index`` results from a result
record; never a token, a raw user id or profile text (the callers pass none, and :func:`render_card` refuses a
token-looking value).
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from pathlib import Path

from ..errors import LampkitError

_TOKEN = re.compile(r"\bhf_[A-Za-z0-9]{8,}")
_CHECKOUT = Path(__file__).resolve().parents[3] / "adapters_card_templates"


def template_path(name: str) -> Path:
    """The template file called ``name`` (``task_adapter``): package data first, then the checkout's folder."""
    packaged = resources.files("lampkit") / "templates" / "adapters" / f"{name}.md"
    if packaged.is_file():
        return Path(str(packaged))
    local = _CHECKOUT / f"{name}.md"
    if local.is_file():
        return local
    raise LampkitError(f"no adapter card template {name!r}", field="template")


@functools.cache
def _compiled(path: str):
    import jinja2

    return jinja2.Template(Path(path).read_text(encoding="utf-8"))


def from_template(card_data, name: str, **variables):
    """``ModelCard.from_template(card_data, template_path=template_path(name), **variables)``, the same text (the
    card data's fields and ``variables`` as Jinja variables, ``card_data`` as its YAML), from a template compiled
    once per process instead of at every call."""
    from huggingface_hub import ModelCard

    values = dict(card_data.to_dict(), **variables)
    values["card_data"] = card_data.to_yaml()
    return ModelCard(_compiled(str(template_path(name))).render(**values))


def render_card(name: str, *, repo_id: str, base_model: str, record: dict | None = None, tags=(), datasets=(),
                private: bool = True, **variables):
    """A ``huggingface_hub.ModelCard`` from template ``name``; ``record`` (a result record) fills ``model-index``."""
    from huggingface_hub import EvalResult
    from huggingface_hub import ModelCardData

    from ..tasks import BENCHMARKS
    from ..tasks import get_task

    results = {}
    eval_results = []
    if record:
        task = get_task(record["task"])
        results = {key: record[key] for key in task.metric_keys if key in record}
        for key, value in results.items():
            eval_results.append(EvalResult(
                task_type="text-generation", dataset_type=record.get("dataset", record["config"]),
                dataset_name=f"{BENCHMARKS[task.benchmark].pretty_name} {record['config']}",
                dataset_config=record["config"], dataset_split=record.get("split"), metric_type=key,
                metric_value=value))
    data = ModelCardData(base_model=base_model, library_name="peft", license="other", tags=list(tags),
                         datasets=list(datasets) or None, model_name=repo_id, eval_results=eval_results or None)
    values = dict(variables, repo_id=repo_id, base_model=base_model, results=results, private=private)
    if record:
        values.update(num_questions=record.get("num_questions"), eval_split=record.get("split"),
                      scorer_version=record.get("scorer_version"),
                      decoding_json=json.dumps(record.get("decoding"), sort_keys=True))
    for key, value in values.items():
        if isinstance(value, str) and _TOKEN.search(value):
            raise LampkitError("looks like a Hugging Face token; tokens never go into cards", field=key)
    return from_template(data, name, **values)
