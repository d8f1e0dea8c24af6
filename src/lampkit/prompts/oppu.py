"""OPPU prompts (``TamSiuhin/OPPU:OPPU.py``, ``task_LoRA.py``, ``utils.py``; templates in the registry,
:class:`lampkit.tasks.OppuPrompts`).

A question prompt is the article cut out of the LaMP input (after the task's marker; LaMP-1: the title and the
two options by regular expression), put into the task's ``prompt``; with k > 0 the k history strings of the
user's profile that BM25 ranks best for ``query_wokey`` come first, then a newline; a PAG profile summary goes
outermost, also followed by a newline. History fields are cut to 368 whitespace words (768 for per-user
training pairs). BM25 is ``rank_bm25``'s ``BM25Okapi`` over the history strings split on single spaces (the
originals' ``doc.split(" ")``), computed by :func:`lampkit.retrieval.bm25_rank`; ties go to the earlier item.

The originals' LaMP-1 prompt had one ``{}`` for three values, so the options never reached the model, and the
training target became option 1's text instead of the gold: lampkit uses ``fixed_prompt`` and the gold unless
``faithful_bugs=True``.
"""

from __future__ import annotations

import re

from ..errors import LampkitError
from ..retrieval.bm25 import bm25_rank
from ..tasks import OPPU_HISTORY_WORDS
from ..tasks import OppuPrompts
from ..tasks import Task
from .rag import word_cut

#: Stand-ins that make ``str.split()`` see the tokens of ``str.split(" ")``: each whitespace character inside a
#: token and the empty token become private-use characters of plane 15.
_PLANE15 = 0xF0000
_EMPTY = chr(_PLANE15 + 0xFFFF)


def _space_tokens(text: str) -> str:
    """``text`` rewritten so that its ``split()`` tokens correspond one to one to its ``split(" ")`` tokens."""
    out = []
    for token in text.split(" "):
        if not token:
            out.append(_EMPTY)
        elif any(c.isspace() for c in token):
            out.append("".join(chr(_PLANE15 + ord(c)) if c.isspace() else c for c in token))
        else:
            out.append(token)
    return " ".join(out)


def top_history(queries: list[str], histories: list[list[str]], k: int) -> list[str]:
    """Per query, its k best history strings joined by nothing (``"".join(bm25.get_top_n(...))``)."""
    ranks = bm25_rank([_space_tokens(q) for q in queries], [[_space_tokens(h) for h in hs] for hs in histories])
    return ["".join(hs[i] for i in order[:k]) for hs, order in zip(histories, ranks)]


def cut_item(item: dict, words: int) -> dict:
    """Every string field cut to ``words`` whitespace words (the originals cut every field in place)."""
    return {key: word_cut(value, words) if isinstance(value, str) else value for key, value in item.items()}


def oppu_of(task: Task) -> OppuPrompts:
    if task.oppu is None:
        raise LampkitError(f"{task.name} has no OPPU prompts (OPPU covers LaMP-1, 2, 2N, 3, 4, 5 and 7)",
                           field="style")
    return task.oppu


def history_strings(oppu: OppuPrompts, profile: list[dict], words: int, record=None) -> list[str]:
    out = []
    for i, item in enumerate(profile):
        try:
            out.append(oppu.history.format(**cut_item(item, words)))
        except KeyError as err:
            raise LampkitError("missing", record=record, field=f"profile[{i}].{err.args[0]}") from None
    return out


def question_parts(oppu: OppuPrompts, text: str, *, record=None, faithful_bugs: bool = False,
                   article_words: int | None = None) -> tuple[str, str, str, tuple]:
    """(article, prompt template, prompt + gold template, positional values) of one LaMP input."""
    if oppu.article_pattern:
        found = re.search(oppu.article_pattern, text)
        options = [re.search(oppu.option_pattern.format(n=n), text) for n in (1, 2)]
        if found is None or None in options:
            raise LampkitError(f"cannot find the {oppu.name} title and options", record=record, field="input")
        values = (found.group(1), options[0].group(1), options[1].group(1))
        if faithful_bugs:
            return values[0], oppu.prompt, oppu.full_prompt, values
        return values[0], oppu.fixed_prompt, oppu.fixed_full_prompt, values
    at = text.find(oppu.marker)
    if at < 0:
        raise LampkitError(f"no {oppu.marker!r} to cut the {oppu.name} article after", record=record, field="input")
    article = text[at + len(oppu.marker):]
    if article_words is not None:
        article = word_cut(article, article_words)
    return article, oppu.prompt, oppu.full_prompt, (article,)


def completion_of(template: str, full: str, values: tuple, gold: str | None) -> str:
    """What the prompt + gold template adds to the prompt (a space and the gold; "" without a gold)."""
    if gold is None:
        return ""
    return full.format(*values, gold)[len(template.format(*values)):]


def build(task: Task, inputs: list[str], profiles: list[list[dict]], golds: list, *, k: int = 0,
          summaries: list | None = None, records: list | None = None, faithful_bugs: bool = False,
          article_words: int | None = None, history_words: int = OPPU_HISTORY_WORDS) -> tuple[list, list]:
    """OPPU test prompts and completions of a batch of question rows."""
    oppu = oppu_of(task)
    records = records if records is not None else [None] * len(inputs)
    parts = [question_parts(oppu, text, record=rid, faithful_bugs=faithful_bugs, article_words=article_words)
             for text, rid in zip(inputs, records)]
    prompts = [template.format(*values) for _, template, _, values in parts]
    if k > 0:
        queries = [oppu.query_wokey.format(article) for article, _, _, _ in parts]
        histories = [history_strings(oppu, profile or [], history_words, rid)
                     for profile, rid in zip(profiles, records)]
        prompts = [h + "\n" + p for h, p in zip(top_history(queries, histories, k), prompts)]
    if summaries is not None:
        for i, (summary, rid) in enumerate(zip(summaries, records)):
            if summary is None:
                raise LampkitError("no profile summary", record=rid, field="profile_summary")
            prompts[i] = summary + "\n" + prompts[i]
    completions = [completion_of(template, full, values, gold)
                   for (_, template, full, values), gold in zip(parts, golds)]
    return prompts, completions
