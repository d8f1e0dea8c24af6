"""The task registry: every fact about every LaMP and LongLaMP task, as plain data.

Every other part of lampkit (builders, retrieval, prompts, scoring, cards) reads its task facts from here;
none is written twice. Sources: ``LaMP-Benchmark/LaMP:PEFT/data/datasets.py`` (data),
``LaMP-Benchmark/LaMP:LaMP/rank_profiles.py`` (retrieval), ``LaMP-Benchmark/LaMP:LaMP/prompts/prompts.py`` and
``LongLaMP-benchmark/LongLaMP-Benchmark:longLaMP/prompts/prompts.py`` (prompts),
``LaMP-Benchmark/LaMP:eval/evaluation.py`` (metrics).

>>> get_task("LaMP_2M").name   # OPPU's alias for movie tagging
'LaMP_2'
>>> get_task("LaMP_4").query
Query(kind='after', marker='article:')
>>> [f.name for f in get_task("LaMP_3").profile_fields]
['id', 'text', 'score', 'date']
"""

from __future__ import annotations

from dataclasses import dataclass

LAMP_BASE_URL = "https://ciir.cs.umass.edu/downloads/LaMP"
LONGLAMP_REPO_ID = "LongLaMP/LongLaMP"

#: Metric families (``Task.metric``): label tasks, the rating task, LaMP generation, LongLaMP generation.
CLASSIFICATION, REGRESSION = "classification", "regression"
GENERATION, LONG_GENERATION = "generation", "long_generation"
#: The keys each metric family reports (the official scorer's spelling, LaMP-Benchmark/LaMP:eval/evaluation.py).
METRIC_KEYS = {
    CLASSIFICATION: ("accuracy", "f1"),
    REGRESSION: ("MAE", "RMSE"),
    GENERATION: ("rouge-1", "rouge-L"),
    LONG_GENERATION: ("rouge-1", "rouge-L", "meteor"),
}
#: Families whose outputs may be JSON numbers (the official scorer takes ``str()`` of them).
NUMERIC_OUTPUT_FAMILIES = (CLASSIFICATION, REGRESSION)

#: Split kinds: LaMP calls the second one "time", LongLaMP "temporal".
SPLIT_KINDS = {"lamp": ("user", "time"), "longlamp": ("user", "temporal")}


@dataclass(frozen=True)
class Benchmark:
    """A benchmark's own facts, as builders, cards and the metric module cite them."""

    name: str
    pretty_name: str
    homepage: str
    citation: str
    license: str
    paper: str = ""
    code: str = ""


BENCHMARKS = {
    "lamp": Benchmark(
        name="lamp", pretty_name="LaMP", homepage="https://lamp-benchmark.github.io",
        citation="""@inproceedings{salemi-etal-2024-lamp,
    title = "{L}a{MP}: When Large Language Models Meet Personalization",
    author = "Salemi, Alireza and Mysore, Sheshera and Bendersky, Michael and Zamani, Hamed",
    booktitle = "Proceedings of the 62nd Annual Meeting of the Association for Computational Linguistics",
    year = "2024",
    note = "arXiv:2304.11406"
}""",
        license="LaMP's code and data-creation methods are CC BY-NC-SA 4.0; each dataset keeps its source's "
                "licence (LaMP-6 needs an LDC licence for Avocado, LDC2015T03).",
        paper="https://arxiv.org/abs/2304.11406", code="https://github.com/LaMP-Benchmark/LaMP",
    ),
    "longlamp": Benchmark(
        name="longlamp", pretty_name="LongLaMP", homepage="https://longlamp-benchmark.github.io",
        citation="""@misc{kumar2024longlamp,
    title = "{LongLaMP}: A Benchmark for Personalized Long-form Text Generation",
    author = "Kumar, Ishita and Viswanathan, Snigdha and Yerra, Sushrita and Salemi, Alireza and Rossi, Ryan A. and
              Dernoncourt, Franck and Deilamsalehy, Hanieh and Chen, Xiang and Zhang, Ruiyi and Agarwal, Shubham and
              Lipka, Nedim and Van Nguyen, Chien and Nguyen, Thien Huu and Zamani, Hamed",
    year = "2024",
    eprint = "2407.11016",
    archivePrefix = "arXiv"
}""",
        license="LongLaMP's code and data-creation methods are CC BY-NC-SA 4.0; each dataset keeps its source's "
                "licence (email generation needs an LDC licence for Avocado, LDC2015T03).",
        paper="https://arxiv.org/abs/2407.11016", code="https://github.com/LongLaMP-benchmark/LongLaMP-Benchmark",
    ),
}


@dataclass(frozen=True)
class Field:
    """One field of a profile item. ``required`` fields must be present in every raw item."""

    name: str
    dtype: str = "string"
    required: bool = True


@dataclass(frozen=True)
class Query:
    """How the retrieval query is cut out of a question's input.

    ``after``: the text after the first occurrence of ``marker``, stripped; ``quoted_pair``: the 2nd and 3rd
    double-quoted substrings joined by a space (LaMP-1's two candidate references); ``whole``: the input.
    """

    kind: str
    marker: str = ""


@dataclass(frozen=True)
class Prompt:
    """A retrieval-augmented prompt: one ``item`` template per retrieved profile item, joined by ``joiner``,
    then placed into ``prompt`` (``{items}`` and ``{input}``). ``field`` is the item field that is truncated to
    fit the token budget; ``word_limit`` cuts it to that many whitespace words first (LongLaMP abstracts)."""

    item: str
    prompt: str
    field: str
    joiner: str = ", and "
    word_limit: int | None = None


@dataclass(frozen=True)
class Task:
    """One benchmark task. ``raw_dir`` is the task's folder in the official download tree (LaMP) or the
    task's config prefix (LongLaMP); ``user_field`` names the raw field that identifies the user;
    ``input_template`` is how the benchmark phrases a question (``LaMP-Benchmark/LaMP:PEFT/data/datasets.py``;
    LongLaMP inputs come pre-phrased)."""

    name: str
    benchmark: str
    title: str
    metric: str
    profile_fields: tuple[Field, ...]
    query: Query
    document_fields: tuple[str, ...]
    prompt: Prompt
    raw_dir: str
    labels: tuple[str, ...] = ()
    input_template: str = ""
    user_field: str = "user_id"
    user_kinds: tuple[str, ...] = ("time",)
    needs_avocado: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def metric_keys(self) -> tuple[str, ...]:
        return METRIC_KEYS[self.metric]

    @property
    def split_kinds(self) -> tuple[str, ...]:
        return SPLIT_KINDS[self.benchmark]

    @property
    def config_names(self) -> tuple[str, ...]:
        return tuple(f"{self.name}_{kind}" for kind in self.split_kinds)

    def user_column(self, kind: str) -> str | None:
        """The column that identifies the user in this task's configs of split ``kind``: ``user_field`` in the
        split kinds whose raw data names the user (``user_kinds``: LaMP's time split, both LongLaMP splits but
        only the temporal one for email), else none (every question is its own user).

        >>> get_task("LaMP_4").user_column("time"), get_task("LaMP_4").user_column("user")
        ('user_id', None)
        >>> get_task("product_review").user_column("user"), get_task("email_generation").user_column("user")
        ('reviewerId', None)
        """
        return self.user_field if kind in self.user_kinds else None

    def user_column_in(self, columns) -> str | None:
        """The column of ``columns`` that identifies the user: ``user_id``, else the raw ``user_field``."""
        return next((c for c in ("user_id", self.user_field) if c in columns), None)

    @property
    def has_date(self) -> bool:
        return any(f.name == "date" for f in self.profile_fields)


def _fields(*names: str, date: bool = True, date_required: bool = True) -> tuple[Field, ...]:
    fields = (Field("id"),) + tuple(Field(n) for n in names)
    return fields + ((Field("date", required=date_required),) if date else ())


MOVIE_TAGS = (
    "sci-fi", "based on a book", "comedy", "action", "twist ending", "dystopia", "dark comedy", "classic",
    "psychology", "fantasy", "romance", "thought-provoking", "social commentary", "violence", "true story",
)
NEWS_CATEGORIES = (
    "food & drink", "sports", "education", "parents", "religion", "travel", "business", "crime",
    "science & technology", "culture & arts", "entertainment", "politics", "women", "style & beauty",
    "healthy living",
)

#: LaMP-6 question template, applied to the email body
#: (``LaMP-Benchmark/LaMP:data/avocado/create_avocado_dataset.py``).
LAMP6_INPUT = "Generate a subject for the following email: {body}"

LAMP_TASKS = (
    Task(
        name="LaMP_1", benchmark="lamp", title="Personalized Citation Identification",
        metric="classification", labels=("[1]", "[2]"),
        profile_fields=_fields("title", "abstract"),
        query=Query("quoted_pair"), document_fields=("title", "abstract"),
        prompt=Prompt(item='"{title}"', prompt="{input}", field="title"),
        input_template='For an author who has written the paper with the title "{title}", which reference is '
                       'related? Just answer with [1] or [2] without explanation. [1]: "{ref1}" [2]: "{ref2}"',
        raw_dir="LaMP_1",
    ),
    Task(
        name="LaMP_2", benchmark="lamp", title="Personalized Movie Tagging",
        metric="classification", labels=MOVIE_TAGS, aliases=("LaMP_2M",),
        profile_fields=_fields("description", "tag"),
        query=Query("after", "description:"), document_fields=("description",),
        prompt=Prompt(item='the tag for the movie: "{description}" is "{tag}" ', prompt="{items}. {input}",
                      field="description"),
        input_template="Which tag does this movie relate to among the following tags? Just answer with the tag "
                       "name without further explanation. tags: [sci-fi, based on a book, comedy, action, twist "
                       "ending, dystopia, dark comedy, classic, psychology, fantasy, romance, thought-provoking, "
                       "social commentary, violence, true story] description: {description}",
        raw_dir="LaMP_2/new",
    ),
    Task(
        name="LaMP_2N", benchmark="lamp", title="Personalized News Categorization (deprecated)",
        metric="classification", labels=NEWS_CATEGORIES,
        profile_fields=_fields("text", "title", "category"),
        query=Query("after", "article:"), document_fields=("text",),
        prompt=Prompt(item='the category for the article: "{text}" is "{category}" ', prompt="{items}. {input}",
                      field="text"),
        input_template="Which category does this article relate to among the following categories? Just answer "
                       "with the category name without further explanation. categories: [travel, education, "
                       "parents, style & beauty, entertainment, food & drink, science & technology, business, "
                       "sports, healthy living, women, politics, crime, culture & arts, religion] article: {text}",
        raw_dir="LaMP_2",
    ),
    Task(
        name="LaMP_3", benchmark="lamp", title="Personalized Product Rating",
        metric="regression", labels=("1", "2", "3", "4", "5"),
        profile_fields=_fields("text", "score"),
        query=Query("after", "review:"), document_fields=("text",),
        prompt=Prompt(item='{score} is the score for "{text}" ', prompt="{items}. {input}", field="text"),
        input_template="What is the score of the following review on a scale of 1 to 5? just answer with 1, 2, 3, "
                       "4, or 5 without further explanation. review: {text}",
        raw_dir="LaMP_3",
    ),
    Task(
        name="LaMP_4", benchmark="lamp", title="Personalized News Headline Generation",
        metric="generation",
        profile_fields=_fields("text", "title"),
        query=Query("after", "article:"), document_fields=("title", "text"),
        prompt=Prompt(item='"{title}" is the title for "{text}" ', prompt="{items}. {input}", field="text"),
        input_template="Generate a headline for the following article: {text}",
        raw_dir="LaMP_4",
    ),
    Task(
        name="LaMP_5", benchmark="lamp", title="Personalized Scholarly Title Generation",
        metric="generation",
        profile_fields=_fields("title", "abstract"),
        query=Query("after", ":"), document_fields=("title", "abstract"),
        prompt=Prompt(item='"{title}" is a title for "{abstract}" ',
                      prompt="{items}. Following the given patterns {input}", field="abstract"),
        input_template="Generate a title for the following abstract of a paper: {abstract}",
        raw_dir="LaMP_5",
    ),
    Task(
        name="LaMP_6", benchmark="lamp", title="Personalized Email Subject Generation",
        metric="generation", needs_avocado=True,
        profile_fields=_fields("text", "title"),
        query=Query("after", ":"), document_fields=("text",),
        prompt=Prompt(item='"{title}" is the title for "{text}" ', prompt="{items}. {input}", field="text"),
        input_template=LAMP6_INPUT,
        raw_dir="LaMP_6",
    ),
    Task(
        name="LaMP_7", benchmark="lamp", title="Personalized Tweet Paraphrasing",
        metric="generation",
        profile_fields=_fields("text", date_required=False),
        query=Query("after", ":"), document_fields=("text",),
        prompt=Prompt(item='"{text}" ', prompt="{items} are written by a person. Following the given patterns {input}",
                      field="text"),
        input_template="Paraphrase the following tweet without any explanation before or after it: {tweet}",
        raw_dir="LaMP_7",
    ),
)

#: LongLaMP email-completion question template, applied to the subject and the first words
#: (``LongLaMP-benchmark/LongLaMP-Benchmark:longLaMP/prompts/prompts.py``).
LONGLAMP_EMAIL_INPUT = "Complete the text of the following email. title: {subject}. text: {prefix}"

LONGLAMP_TASKS = (
    Task(
        name="abstract_generation", benchmark="longlamp", title="Personalized Abstract Generation",
        metric="long_generation", user_field="name", user_kinds=("user", "temporal"),
        profile_fields=(Field("id"), Field("title"), Field("abstract"), Field("year", "int64", required=False)),
        query=Query("after", "items:"), document_fields=("title", "abstract"),
        prompt=Prompt(item='"{abstract}" is the abstract for the title "{title}"',
                      prompt="{items}. Use the above abstracts as context to understand the style and language of "
                             "the user and, {input}",
                      field="abstract", word_limit=750),
        raw_dir="abstract_generation",
    ),
    Task(
        name="product_review", benchmark="longlamp", title="Personalized Product Review Writing",
        metric="long_generation", user_field="reviewerId", user_kinds=("user", "temporal"),
        profile_fields=(Field("overall"), Field("summary"), Field("description"), Field("reviewText")),
        query=Query("whole"), document_fields=("overall", "summary", "description", "reviewText"),
        prompt=Prompt(item='"{overall}" is a rating for the product with description "{description}". '
                           '"{summary}" is summary for "{reviewText}" ',
                      prompt="{items}. Following the given patterns {input}", field="reviewText"),
        raw_dir="product_review",
    ),
    Task(
        name="topic_writing", benchmark="longlamp", title="Personalized Topic Writing",
        metric="long_generation", user_field="author", user_kinds=("user", "temporal"),
        profile_fields=(Field("id"), Field("author"), Field("summary"), Field("content")),
        query=Query("whole"), document_fields=("summary", "content"),
        prompt=Prompt(item='"{summary}" is a summary for "{content}" ',
                      prompt="{items}. Following the given patterns, {input}", field="content"),
        raw_dir="topic_writing",
    ),
    Task(
        name="email_generation", benchmark="longlamp", title="Personalized Email Completion",
        metric="long_generation", needs_avocado=True, user_kinds=("temporal",),
        profile_fields=_fields("text", "title", date_required=False),
        query=Query("after", ":"), document_fields=("text",),
        prompt=Prompt(item='"{title}" is the title for "{text}" ', prompt="{items}. {input}", field="text"),
        raw_dir="email_generation",
    ),
)

TASKS = {task.name: task for task in LAMP_TASKS + LONGLAMP_TASKS}
#: The tasks the LaMP leaderboard scores, all required in a submission (``LaMP-Benchmark/LaMP:eval/eval_all.py``):
#: every LaMP task but LaMP-2N.
LEADERBOARD_TASKS = tuple(task.name for task in LAMP_TASKS if task.name != "LaMP_2N")
_ALIASES = {alias: task.name for task in TASKS.values() for alias in task.aliases}


def get_task(name: str) -> Task:
    """The task called ``name`` (an alias such as ``LaMP_2M`` works too)."""
    task = TASKS.get(_ALIASES.get(name, name))
    if task is None:
        raise KeyError(f"unknown task {name!r}; known: {', '.join(sorted(TASKS) + sorted(_ALIASES))}")
    return task


def parse_config_name(config: str) -> tuple[Task, str]:
    """Split a builder config name such as ``LaMP_4_user`` or ``product_review_temporal`` into (task, kind)."""
    base, _, kind = config.rpartition("_")
    task = TASKS.get(base)
    if task is None or kind not in task.split_kinds:
        known = [c for t in TASKS.values() for c in t.config_names]
        raise KeyError(f"unknown config {config!r}; known: {', '.join(known)}")
    return task, kind


def resolve_task(task_or_config: Task | str) -> Task:
    """The task of a :class:`Task`, a task name or alias (``LaMP_2M``), or a config name (``LaMP_6_time``)."""
    if isinstance(task_or_config, Task):
        return task_or_config
    try:
        return get_task(task_or_config)
    except KeyError:
        return parse_config_name(task_or_config)[0]


def is_licensed(task_or_config: Task | str) -> bool:
    """Whether data of this task, config, or anything trained on it (an adapter, predictions) is under a licence
    that forbids public release: the Avocado emails (LDC2015T03) of LaMP-6 and LongLaMP email generation.

    >>> is_licensed("LaMP_6_user"), is_licensed("email_generation"), is_licensed(get_task("LaMP_4"))
    (True, True, False)
    """
    return resolve_task(task_or_config).needs_avocado


def lamp_raw_path(task: Task, kind: str, split: str, part: str) -> str:
    """Relative path of a raw LaMP file, as on the download server: ``[time/]LaMP_k/<split>/<split>_<part>.json``
    (``split`` is train/dev/test, ``part`` questions/outputs)."""
    prefix = "time/" if kind == "time" else ""
    return f"{prefix}{task.raw_dir}/{split}/{split}_{part}.json"
