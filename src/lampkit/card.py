"""Dataset cards: rendered from a build record with ``huggingface_hub``'s Jinja card templates."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import DatasetCard
from huggingface_hub import DatasetCardData

from . import __version__
from .tasks import BENCHMARKS
from .tasks import get_task

TEMPLATES = Path(__file__).parent / "templates"
LDC_NOTE = ("The email configs (LaMP_6, email_generation) come from the Avocado Research Email Collection: "
            "do not publish them publicly without an LDC licence.")


def _shown(source: str) -> str:
    """A source as a card shows it: a URL or repo path as is, a local file by its path inside the mirror."""
    return f"{source.removeprefix('local:')} (local mirror)" if source.startswith("local:") else source


def data_files_path(config: str, split: str, built: dict) -> str:
    """The ``data_files`` path of one split of a build record's config: its shards' content digest is part of it,
    so stock ``datasets`` (which keys its cache of a local folder by the card's YAML) never serves a rebuilt folder's
    old rows. A config built before shard names had a digest keeps its plain ``<split>-*`` pattern."""
    digest = built["splits"][split].get("digest")
    return f"data/{config}/{split}-*-{digest}.parquet" if digest else f"data/{config}/{split}-*"


def render_dataset_card(record: dict, repo_id: str | None = None) -> str:
    """The README.md of a built folder: YAML ``configs:`` for stock ``load_dataset`` plus stats and sources."""
    configs = dict(sorted(record["configs"].items()))
    benchmarks = sorted({c["benchmark"] for c in configs.values()})
    yaml_configs = [
        {"config_name": name,
         "data_files": [{"split": split, "path": data_files_path(name, split, c)} for split in c["splits"]]}
        for name, c in configs.items()
    ]
    data = DatasetCardData(
        language=["en"], license="cc-by-nc-sa-4.0",
        pretty_name=" and ".join(BENCHMARKS[b].pretty_name for b in benchmarks),
        task_categories=["text-generation", "text-classification"],
        tags=["personalization", "lamp", "retrieval-augmented-generation"],
        configs=yaml_configs,
    )
    shown = {}
    for name, c in configs.items():
        shown[name] = {**c, "title": get_task(c["task"]).title,
                       "sources": {_shown(src): sha for src, sha in c["sources"].items()}}
    user_columns = {name: column for name, c in configs.items()
                    if (column := get_task(c["task"]).user_column(c["split_kind"]))}
    empty_fields = [(name, split, field, count) for name, c in configs.items() for split, st in c["splits"].items()
                    for field, count in st.get("empty_profile_fields", {}).items() if count]
    card = DatasetCard.from_template(
        data, template_path=TEMPLATES / "dataset_card.md", pretty_name=data.pretty_name, configs=shown,
        empty_fields=empty_fields, user_columns=user_columns,
        repo_id=repo_id, example_config=next(iter(configs), ""), lampkit_version=__version__,
        license_note=" ".join([*(BENCHMARKS[b].license for b in benchmarks), LDC_NOTE]),
        citations="\n\n".join(BENCHMARKS[b].citation for b in benchmarks),
    )
    return str(card)
