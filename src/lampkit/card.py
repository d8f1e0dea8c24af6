"""Dataset cards: rendered from a build record with ``huggingface_hub``'s Jinja card templates."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import DatasetCard, DatasetCardData

from . import __version__
from .tasks import get_task

TEMPLATES = Path(__file__).parent / "templates"
CITATIONS = {
    "lamp": """@inproceedings{salemi-etal-2024-lamp,
    title = "{L}a{MP}: When Large Language Models Meet Personalization",
    author = "Salemi, Alireza and Mysore, Sheshera and Bendersky, Michael and Zamani, Hamed",
    booktitle = "Proceedings of the 62nd Annual Meeting of the Association for Computational Linguistics",
    year = "2024",
    note = "arXiv:2304.11406"
}""",
    "longlamp": """@misc{kumar2024longlamp,
    title = "{LongLaMP}: A Benchmark for Personalized Long-form Text Generation",
    author = "Kumar, Ishita and Viswanathan, Snigdha and Yerra, Sushrita and Salemi, Alireza and Rossi, Ryan A. and Dernoncourt, Franck and Deilamsalehy, Hanieh and Chen, Xiang and Zhang, Ruiyi and Agarwal, Shubham and Lipka, Nedim and Van Nguyen, Chien and Nguyen, Thien Huu and Zamani, Hamed",
    year = "2024",
    eprint = "2407.11016",
    archivePrefix = "arXiv"
}""",
}
LICENSE_NOTE = (
    "LaMP's and LongLaMP's code and data-creation methods are CC BY-NC-SA 4.0; each dataset keeps the licence of "
    "its source. The email configs (LaMP_6, email_generation) are built from the Avocado Research Email "
    "Collection (LDC2015T03), which needs an LDC licence: do not publish them publicly without one."
)


def _shown(source: str) -> str:
    """A source as a card shows it: a URL or repo path as is, a local file by its path inside the mirror."""
    return f"{source.removeprefix('local:')} (local mirror)" if source.startswith("local:") else source


def render_dataset_card(record: dict, repo_id: str | None = None) -> str:
    """The README.md of a built folder: YAML ``configs:`` for stock ``load_dataset`` plus stats and sources."""
    configs = dict(sorted(record["configs"].items()))
    benchmarks = sorted({c["benchmark"] for c in configs.values()})
    yaml_configs = [
        {"config_name": name,
         "data_files": [{"split": split, "path": f"data/{name}/{split}-*"} for split in c["splits"]]}
        for name, c in configs.items()
    ]
    data = DatasetCardData(
        language=["en"], license="cc-by-nc-sa-4.0", pretty_name="LaMP" if benchmarks == ["lamp"] else
        ("LongLaMP" if benchmarks == ["longlamp"] else "LaMP and LongLaMP"),
        task_categories=["text-generation", "text-classification"],
        tags=["personalization", "lamp", "retrieval-augmented-generation"],
        configs=yaml_configs,
    )
    shown = {}
    for name, c in configs.items():
        shown[name] = {**c, "title": get_task(c["task"]).title,
                       "sources": {_shown(src): sha for src, sha in c["sources"].items()}}
    card = DatasetCard.from_template(
        data, template_path=TEMPLATES / "dataset_card.md", pretty_name=data.pretty_name, configs=shown,
        repo_id=repo_id, example_config=next(iter(configs), ""), lampkit_version=__version__,
        license_note=LICENSE_NOTE, citations="\n\n".join(CITATIONS[b] for b in benchmarks),
    )
    return str(card)
