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
#: Families whose metrics are errors (lower is better).
LOWER_IS_BETTER = (REGRESSION,)
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
    then placed into ``prompt`` (``{items}`` and ``{input}``; with ``split_at``, ``{head}`` is the input up to and
    including the first ``split_at`` and ``{tail}`` the rest: LaMP-1 puts its items inside the input).
    ``header`` is a fixed first element of the joined list (LongLaMP's LLaMA review prompt).

    ``field`` is the item field that is cut; ``word_limit`` first keeps that many whitespace words of it (joined by
    single spaces). ``budget`` says how it is cut: ``shared`` (LaMP, ``LaMP/prompts/prompts.py``): the items share
    ``max_length`` minus the input's share, each gets ``(B - reserve - 2 (n - 1) - len(extra)) // n`` tokens with a
    carry, less its fixed part: the token length of ``budget_item`` (the item with the field blanked) or the
    constant ``needed``; ``model_max`` (LongLaMP FlanT5): each field is cut to the tokenizer's maximum;
    ``none`` (LongLaMP LLaMA): not cut by tokens."""

    item: str
    prompt: str
    field: str
    joiner: str = ", and "
    word_limit: int | None = None
    budget: str = "shared"
    budget_item: str = ""
    needed: int | None = None
    reserve: int = 1
    extra: str = ""
    split_at: str = ""
    header: str = ""


@dataclass(frozen=True)
class OppuPrompts:
    """A task's OPPU templates (``TamSiuhin/OPPU:prompt/prompt.json``, ``prompt/prompt_profile.json``). ``{}`` is
    filled by position (the extracted article, then the gold), ``{field}`` by a profile item's fields.

    ``prompt``/``full_prompt``: the question prompt and prompt + gold; ``history``: one retrieved history item;
    ``query``: the BM25 query made from a history item (per-user training), ``query_wokey`` from the article;
    ``train_input``/``train_full``: a per-user training pair made from a history item; ``marker``: the article is
    the input after it (``utils.py``), or ``article_pattern``'s group; ``option_pattern`` (``{n}`` = 1, 2) finds
    LaMP-1's options; ``fixed_prompt``/``fixed_full_prompt`` replace ``prompt``/``full_prompt`` unless the
    originals' bugs are asked for; ``train_context``: per-user training pairs get history and profile
    (``OPPU.py``'s ``format_flag``); ``profile_prompt`` and ``profile_item``: the PAG profile-generation prompt
    (``{}`` = the item list) and its item (``gen_profile.py``)."""

    name: str
    prompt: str
    full_prompt: str
    history: str
    query: str
    query_wokey: str
    train_input: str
    train_full: str
    profile_prompt: str
    profile_item: str
    marker: str = ""
    article_pattern: str = ""
    option_pattern: str = ""
    fixed_prompt: str = ""
    fixed_full_prompt: str = ""
    train_context: bool = True


@dataclass(frozen=True)
class PairTemplate:
    """A training pair made from one profile item: ``prompt`` → ``completion`` (``{field}`` = item fields).
    ``split_words`` = (low, high): the item's ``field`` is split at ``int(words * uniform(low, high))`` words into
    ``{prefix}`` and ``{rest}`` (LaMP-7's tweet completion)."""

    prompt: str
    completion: str
    field: str = ""
    split_words: tuple[float, float] | None = None


#: OPPU whitespace-token cuts (``TamSiuhin/OPPU:task_LoRA.py``, ``OPPU.py``): the article of a task-LoRA
#: training question, history fields at task-LoRA training and test, every field of a per-user training item.
OPPU_ARTICLE_WORDS = 768
OPPU_HISTORY_WORDS = 368
OPPU_TRAIN_WORDS = 768
#: PAG (``TamSiuhin/OPPU:gen_profile.py``): items sampled per user and the whitespace-token cut of their fields.
PAG_ITEMS = 10
PAG_WORDS = 200


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
    llama_prompt: Prompt | None = None
    oppu: OppuPrompts | None = None
    pair: PairTemplate | None = None
    singular: PairTemplate | None = None

    @property
    def metric_keys(self) -> tuple[str, ...]:
        return METRIC_KEYS[self.metric]

    @property
    def lower_is_better(self) -> bool:
        """Whether this task's metrics are errors (MAE, RMSE): a smaller score is a better one."""
        return self.metric in LOWER_IS_BETTER

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

_LAMP2_INPUT = ("Which tag does this movie relate to among the following tags? Just answer with the tag name without "
                "further explanation. tags: [sci-fi, based on a book, comedy, action, twist ending, dystopia, dark "
                "comedy, classic, psychology, fantasy, romance, thought-provoking, social commentary, violence, true "
                "story] description: {description}")
_LAMP3_INPUT = ("What is the score of the following review on a scale of 1 to 5? just answer with 1, 2, 3, 4, or 5 "
                "without further explanation. review: {text}")
_LAMP4_INPUT = "Generate a headline for the following article: {text}"
_LAMP5_INPUT = "Generate a title for the following abstract of a paper: {abstract}"
_OPPU_TAGS = ("[sci-fi, based on a book, comedy, action, twist ending, dystopia, dark comedy, classic, psychology, "
              "fantasy, romance, thought-provoking, social commentary, violence, true story]")
_OPPU_CATS = ("[travel, education, parents, style & beauty, entertainment, food & drink, science & technology, "
              "business, sports, healthy living, women, politics, crime, culture & arts, religion]")
_MOVIE_Q = ("Which tag does this movie relate to among the following tags? Just answer with the tag name without "
            "further explanation.")
_CITATION_Q = ("Identify the most relevant reference for the listed publication by the researcher. Select the "
               "reference paper that is most closely related to the researcher's work.")
_CITATION_RQ = _CITATION_Q + " Please respond with only the number that corresponds to the reference."
_NEWS_Q = ("Which category does this article relate to among the following categories? Just answer with the category "
           "name without further explanation.")
_RATING_Q = ("What is the score of the following review on a scale of 1 to 5? just answer with 1, 2, 3, 4, or 5 "
             "without further explanation.")

LAMP_TASKS = (
    Task(
        name="LaMP_1", benchmark="lamp", title="Personalized Citation Identification",
        metric="classification", labels=("[1]", "[2]"),
        profile_fields=_fields("title", "abstract"),
        query=Query("quoted_pair"), document_fields=("title", "abstract"),
        prompt=Prompt(item='"{title}"', prompt="{head}, and {items}{tail}", field="title", split_at="title",
                      needed=2, reserve=0),
        oppu=OppuPrompts(
            name="citation",
            prompt=_CITATION_Q + "\npaper title: {} reference:",
            full_prompt=_CITATION_Q + "\npaper title: {} reference: {}",
            history="paper title: {title}\n",
            query=_CITATION_RQ + "\npaper title: {title}",
            query_wokey=_CITATION_RQ + "\npaper title: {}",
            train_input="paper title: {title} reference:",
            train_full="paper title: {title} reference: {citation}",
            profile_prompt="Write a summary, in English, of the research interests and topics of a researcher who "
                           "has published the following papers. Only generate the summary, no other text. User "
                           "History: {} Answer:",
            profile_item="paper title: {title} reference: {citation}",
            article_pattern='written the paper with the title "([^"]*)"', option_pattern='\\[{n}\\]: "([^"]*)"',
            fixed_prompt=_CITATION_Q + '\npaper title: {}\n[1]: "{}"\n[2]: "{}"\nreference:',
            fixed_full_prompt=_CITATION_Q + '\npaper title: {}\n[1]: "{}"\n[2]: "{}"\nreference: {}',
            train_context=False,
        ),
        pair=PairTemplate(prompt="Write an abstract for this title: {title}", completion="{abstract}"),
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
                      field="description", budget_item='the tag for the movie: " " is "{tag}" '),
        input_template=_LAMP2_INPUT,
        oppu=OppuPrompts(
            name="movie_tagging",
            prompt=_MOVIE_Q + " tags: " + _OPPU_TAGS + "\n description: {} tag:",
            full_prompt=_MOVIE_Q + " tags: " + _OPPU_TAGS + "\n description: {} tag: {}",
            history="description: {description} tag: {tag}\n",
            query=_MOVIE_Q + "\n description: {description}",
            query_wokey=_MOVIE_Q + "\n description: {}",
            train_input=_MOVIE_Q + " tags: " + _OPPU_TAGS + "\n description: {description} tag:",
            train_full=_MOVIE_Q + " tags: " + _OPPU_TAGS + "\n description: {description} tag: {tag}",
            profile_prompt="Look at the following past movies this user has watched and determine the most popular "
                           "tag they labeled. Answer in the following form: most popular tag: <tag>. User History: "
                           "{} Answer:",
            profile_item="description: {description} tag: {tag}",
            marker="] description: ",
        ),
        pair=PairTemplate(prompt=_LAMP2_INPUT, completion="{tag}"),
        singular=PairTemplate(prompt=_LAMP2_INPUT, completion="{tag}"),
        raw_dir="LaMP_2/new",
    ),
    Task(
        name="LaMP_2N", benchmark="lamp", title="Personalized News Categorization (deprecated)",
        metric="classification", labels=NEWS_CATEGORIES,
        profile_fields=_fields("text", "title", "category"),
        query=Query("after", "article:"), document_fields=("text",),
        prompt=Prompt(item='the category for the article: "{text}" is "{category}" ', prompt="{items}. {input}",
                      field="text", budget_item='the category for the article: " " is "{category}" '),
        oppu=OppuPrompts(
            name="news_categorize",
            prompt=_NEWS_Q + " categories: " + _OPPU_CATS + "\n article: {} category:",
            full_prompt=_NEWS_Q + " categories: " + _OPPU_CATS + "\n article: {} category: {}",
            history="article: {text} category: {category}\n",
            query="Which category does this article relate to among the following categories? arcicle: {text}",
            query_wokey="Which category does this article relate to among the following categories? arcicle: {}",
            train_input=_NEWS_Q + " categories: " + _OPPU_CATS + "\n article: {text} category:",
            train_full=_NEWS_Q + " categories: " + _OPPU_CATS + "\n article: {text} category: {category}",
            profile_prompt="Look at the following past articles this journalist has written and determine the most "
                           "popular category they write in. Answer in the following form: most popular category: "
                           "<category>. User History: {} Answer:",
            profile_item="article: {text} category: {category}",
            marker="] article: ",
        ),
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
        prompt=Prompt(item='{score} is the score for "{text}" ', prompt="{items}. {input}", field="text",
                      budget_item='{score} is the score for " " '),
        input_template=_LAMP3_INPUT,
        oppu=OppuPrompts(
            name="product_rating",
            prompt=_RATING_Q + " review: {}\n score:",
            full_prompt=_RATING_Q + " review: {}\n score: {}",
            history="review: {text} score: {score}\n",
            query="What is the score of the following review on a scale of 1 to 5? review: {text}",
            query_wokey="What is the score of the following review on a scale of 1 to 5? review: {}",
            train_input=_RATING_Q + " review: {text}\n score:",
            train_full=_RATING_Q + " review: {text}\n score: {score}",
            profile_prompt="Based on this user’s past reviews, what are the most common scores they give for "
                           "positive and negative reviews? Answer in the following form: most common positive "
                           "score: <most common positive score>, most common negative score: <most common negative "
                           "score>. User History: {} Answer:",
            profile_item="review: {text} score: {score}",
            marker="without further explanation. review: ",
        ),
        pair=PairTemplate(prompt=_LAMP3_INPUT, completion="{score}"),
        singular=PairTemplate(prompt=_LAMP3_INPUT, completion="{score}"),
        raw_dir="LaMP_3",
    ),
    Task(
        name="LaMP_4", benchmark="lamp", title="Personalized News Headline Generation",
        metric="generation",
        profile_fields=_fields("text", "title"),
        query=Query("after", "article:"), document_fields=("title", "text"),
        prompt=Prompt(item='"{title}" is the title for "{text}" ', prompt="{items}. {input}", field="text",
                      budget_item='"{title}" is the title for " " '),
        input_template=_LAMP4_INPUT,
        oppu=OppuPrompts(
            name="news_headline",
            prompt="Generate a headline for the following article.\narticle: {} headline:",
            full_prompt="Generate a headline for the following article.\narticle: {} headline: {}",
            history="article: {text} headline: {title}\n",
            query="Generate a headline for the following article: {text}",
            query_wokey="Generate a headline for the following article: {}",
            train_input="Generate a headline for the following article.\n article: {text} headline:",
            train_full="Generate a headline for the following article.\n article: {text} headline: {title}",
            profile_prompt="Given this author’s previous articles, try to describe a template for their "
                           "headlines. I want to be able to accurately predict the headline gives one of their "
                           "articles. Be specific about their style and wording, don’t tell me anything generic. "
                           "User History: {} Answer:",
            profile_item="article: {text} headline: {title}",
            marker="Generate a headline for the following article: ",
        ),
        pair=PairTemplate(prompt=_LAMP4_INPUT, completion="{title}"),
        singular=PairTemplate(prompt=_LAMP4_INPUT, completion="{title}"),
        raw_dir="LaMP_4",
    ),
    Task(
        name="LaMP_5", benchmark="lamp", title="Personalized Scholarly Title Generation",
        metric="generation",
        profile_fields=_fields("title", "abstract"),
        query=Query("after", ":"), document_fields=("title", "abstract"),
        prompt=Prompt(item='"{title}" is a title for "{abstract}" ',
                      prompt="{items}. Following the given patterns {input}", field="abstract",
                      budget_item='"{title}" is a title " " ', extra="Following the given patterns"),
        input_template=_LAMP5_INPUT,
        oppu=OppuPrompts(
            name="scholarly_title",
            prompt="Generate a title for the following abstract of a paper.\n abstract: {} title:",
            full_prompt="Generate a title for the following abstract of a paper.\n abstract: {} title: {}",
            history="abstract: {abstract} title: {title}\n",
            query="Generate a title for the following abstract of a paper: {abstract}",
            query_wokey="Generate a title for the following abstract of a paper: {}",
            train_input="Generate a title for the following abstract of a paper.\n abstract: {abstract} title:",
            train_full="Generate a title for the following abstract of a paper.\n abstract: {abstract} title: {title}",
            profile_prompt="Given this author’s previous publications, try to describe a template for their "
                           "titles. I want to be able to accurately predict the title of one of the papers from the "
                           "abstract. Only generate the template description, nothing else. User History: {} Answer:",
            profile_item="abstract: {abstract} title: {title}",
            marker="Generate a title for the following abstract of a paper: ",
        ),
        pair=PairTemplate(prompt=_LAMP5_INPUT, completion="{title}"),
        singular=PairTemplate(prompt=_LAMP5_INPUT, completion="{title}"),
        raw_dir="LaMP_5",
    ),
    Task(
        name="LaMP_6", benchmark="lamp", title="Personalized Email Subject Generation",
        metric="generation", needs_avocado=True,
        profile_fields=_fields("text", "title"),
        query=Query("after", ":"), document_fields=("text",),
        prompt=Prompt(item='"{title}" is the title for "{text}" ', prompt="{items}. {input}", field="text",
                      budget_item='"{title}" is the title for " " '),
        input_template=LAMP6_INPUT,
        pair=PairTemplate(prompt="Generate a subject for the following email: {text}", completion="{title}"),
        raw_dir="LaMP_6",
    ),
    Task(
        name="LaMP_7", benchmark="lamp", title="Personalized Tweet Paraphrasing",
        metric="generation",
        profile_fields=_fields("text", date_required=False),
        query=Query("after", ":"), document_fields=("text",),
        prompt=Prompt(item='"{text}" ', prompt="{items} are written by a person. Following the given patterns {input}",
                      field="text", budget_item='"" ', extra="are written by user. Following the given patterns"),
        oppu=OppuPrompts(
            name="tweet_paraphrase",
            prompt="Paraphrase the following text into tweet without any explanation before or after it.\n text: {} "
                   "tweet:",
            full_prompt="Paraphrase the following text into tweet without any explanation before or after it.\n "
                        "text: {} tweet: {}",
            history="tweet: {text}\n",
            query="Paraphrase the following text into tweet without any explanation before or after it: {text}",
            query_wokey="Paraphrase the following text into tweet without any explanation before or after it: {}",
            train_input="tweet:",
            train_full="tweet: {text}",
            profile_prompt="Given this person’s previous tweets, try to describe a template for their tweets. I "
                           "want to take a generic sentence and rephrase it to sound like one of their tweets, with "
                           "the same style/punctuation/capitalization/wording/tone/etc. as them. Only give me the "
                           "template description, nothing else. User History: {} Answer:",
            profile_item="tweet: {text}",
            marker="Paraphrase the following tweet without any explanation before or after it: ",
            train_context=False,
        ),
        pair=PairTemplate(prompt="Complete the following tweet: {prefix}", completion="{rest}", field="text",
                          split_words=(0.1, 0.25)),
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
                      field="abstract", word_limit=750, budget="model_max"),
        llama_prompt=Prompt(item='"{abstract}" is the abstract for the title "{title}"',
                            prompt="{items}. Use the above abstracts as context to understand the style and language "
                                   "of the user and, {input}",
                            field="abstract", word_limit=750, budget="none"),
        raw_dir="abstract_generation",
    ),
    Task(
        name="product_review", benchmark="longlamp", title="Personalized Product Review Writing",
        metric="long_generation", user_field="reviewerId", user_kinds=("user", "temporal"),
        profile_fields=(Field("overall"), Field("summary"), Field("description"), Field("reviewText")),
        query=Query("whole"), document_fields=("overall", "summary", "description", "reviewText"),
        prompt=Prompt(item='"{overall}" is a rating for the product with description "{description}". '
                           '"{summary}" is summary for "{reviewText}" ',
                      prompt="{items}. Following the given patterns {input}", field="reviewText", budget="model_max"),
        llama_prompt=Prompt(item='"{reviewText}"', header="Below are a list of review texts by the reviewer:",
                            prompt="{items}. Use the above list of review texts by the reviewer as context to "
                                   "understand the writing style and language of the reviewer and, {input}",
                            field="reviewText", word_limit=100, budget="none"),
        raw_dir="product_review",
    ),
    Task(
        name="topic_writing", benchmark="longlamp", title="Personalized Topic Writing",
        metric="long_generation", user_field="author", user_kinds=("user", "temporal"),
        profile_fields=(Field("id"), Field("author"), Field("summary"), Field("content")),
        query=Query("whole"), document_fields=("summary", "content"),
        prompt=Prompt(item='"{summary}" is a summary for "{content}" ',
                      prompt="{items}. Following the given patterns, {input}", field="content", budget="model_max"),
        llama_prompt=Prompt(item='"{summary}" is a summary for "{content}" ',
                            prompt="{items}. Following the given patterns {input}", field="content", budget="none"),
        raw_dir="topic_writing",
    ),
    Task(
        name="email_generation", benchmark="longlamp", title="Personalized Email Completion",
        metric="long_generation", needs_avocado=True, user_kinds=("temporal",),
        profile_fields=_fields("text", "title", date_required=False),
        query=Query("after", ":"), document_fields=("text",),
        prompt=Prompt(item='"{title}" is the title for "{text}" ', prompt="{items}. {input}", field="text",
                      budget="model_max"),
        llama_prompt=Prompt(item='"{title}" is the title for "{text}" ',
                            prompt="{items}. Following the given patterns {input}", field="text", budget="none"),
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
