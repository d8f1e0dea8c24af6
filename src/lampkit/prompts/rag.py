"""Retrieval-augmented prompts of LaMP and LongLaMP, batched: every tokenizer call covers a whole batch of rows.

Templates live in the registry (:class:`lampkit.tasks.Prompt`). The token budget of LaMP's prompts follows
``LaMP-Benchmark/LaMP:LaMP/prompts/prompts.py`` (``create_prompt_generator`` and the ``create_*_prompt``
functions): the items may use ``B = max_length - min(len(input), int(f * max_length))`` tokens, f starting at 0.6;
with ``n`` items each gets ``per = (B - reserve - 2 (n - 1) - len(extra)) // n``, less its fixed part, plus what the
items before it left unused; its field is cut to that many tokens (special tokens included) and decoded. When an
item's length comes out negative, f drops by 0.1 and all items are tried again; below 0 the input is returned
alone, as it is for an empty selection (k = 0, empty profile).

A length that the originals passed to a Hugging Face fast tokenizer as ``max_length`` but that is below the
number of special tokens it adds (0 for T5) truncated nothing, so such an item kept its whole field and
overran the budget: here that also counts as a failed attempt, unless ``faithful_bugs=True``.

LongLaMP (``LongLaMP-benchmark/LongLaMP-Benchmark:longLaMP/prompts/prompts.py``) cuts each field to the
tokenizer's ``model_max_length`` alone (``budget="model_max"``); its LLaMA prompts (``prompts_llama.py``) cut
nothing by tokens (``budget="none"``).
"""

from __future__ import annotations

from ..errors import LampkitError
from ..tasks import Prompt
from . import tokens

#: The originals' first share of ``max_length`` kept for the input, and its step down on failure.
START_FACTOR = 0.6
FACTOR_STEP = 0.1


def word_cut(text: str, limit: int) -> str:
    """The first ``limit`` whitespace words of ``text`` joined by single spaces (``extract_first_750_words``,
    OPPU's ``get_first_k_tokens``)."""
    return " ".join(str(text).split()[:limit])


def _format(template: str, item: dict, record, index: int) -> str:
    try:
        return template.format(**item)
    except KeyError as err:
        raise LampkitError("missing", record=record, field=f"profile[{index}].{err.args[0]}") from None


def _field_text(prompt: Prompt, item: dict, record, index: int) -> str:
    value = item.get(prompt.field)
    if value is None:
        raise LampkitError("missing", record=record, field=f"profile[{index}].{prompt.field}")
    return word_cut(value, prompt.word_limit) if prompt.word_limit is not None else str(value)


def plan_cuts(input_length: int, needed: list[int], content: list[int], *, max_length: int, reserve: int,
              extra: int, specials: int, faithful_bugs: bool = False) -> list[int] | None:
    """Content tokens kept per item under LaMP's shared budget, or None when no attempt fits (the input alone).

    ``needed``: each item's fixed part in tokens; ``content``: each field's length in tokens without special
    tokens; ``extra``: tokens reserved for the final template's phrase; ``specials``: special tokens per sequence.
    """
    n = len(needed)
    if n == 0:
        return None
    factor = START_FACTOR
    while True:
        budget = max_length - min(input_length, int(factor * max_length))
        per = (budget - reserve - 2 * (n - 1) - extra) // n
        saved, cuts = 0, []
        for need, length in zip(needed, content):
            limit = per + saved - need
            if limit < 0 or (limit < max(specials, 1) and not faithful_bugs):
                break
            keep = length if limit < max(specials, 1) else min(length, limit - specials)
            cuts.append(keep)
            saved += per - (keep + specials) - need
        if len(cuts) == n:
            return cuts
        factor -= FACTOR_STEP
        if factor < 0:
            return None


def _assemble(prompt: Prompt, text: str, rendered: list[str]) -> str:
    joined = prompt.joiner.join(([prompt.header] if prompt.header else []) + rendered)
    if prompt.split_at:
        at = text.find(prompt.split_at)
        if at < 0:
            return text
        at += len(prompt.split_at)
        return prompt.prompt.format(head=text[:at], items=joined, tail=text[at:])
    return prompt.prompt.format(items=joined, input=text)


def build(prompt: Prompt, inputs: list[str], selections: list[list[dict]], *, tokenizer=None,
          max_length: int = 256, records: list | None = None, faithful_bugs: bool = False) -> list[str]:
    """One prompt per row: ``inputs[i]`` with the items ``selections[i]`` (already ranked and cut to k)."""
    records = records if records is not None else [None] * len(inputs)
    flat = [(row, j, item) for row, items in enumerate(selections) for j, item in enumerate(items)]
    fields = [_field_text(prompt, item, records[row], j) for row, j, item in flat]
    if prompt.budget == "none":
        texts = fields
    else:
        if tokenizer is None:
            raise LampkitError(f"a {prompt.budget} token budget needs a tokenizer", field="tokenizer")
        specials = tokens.special_count(tokenizer)
        ids = tokens.content_ids(tokenizer, fields)
        if prompt.budget == "model_max":
            keep = max(int(getattr(tokenizer, "model_max_length", 0) or 0) - specials, 0)
            texts = tokens.decode(tokenizer, [i[:keep] for i in ids])
        else:
            texts = _shared(prompt, inputs, selections, flat, ids, tokenizer, specials, max_length, records,
                            faithful_bugs)
    rendered: list[list[str]] = [[] for _ in inputs]
    for (row, j, item), text in zip(flat, texts):
        if text is None:
            continue
        rendered[row].append(_format(prompt.item, {**item, prompt.field: text}, records[row], j))
    out = []
    for row, text in enumerate(inputs):
        if not selections[row] or (prompt.budget == "shared" and not rendered[row]):
            out.append(text)
        else:
            out.append(_assemble(prompt, text, rendered[row]))
    return out


def _shared(prompt, inputs, selections, flat, ids, tokenizer, specials, max_length, records, faithful_bugs):
    """The cut field text per flat item (None for rows that fall back to the input alone)."""
    if prompt.needed is not None:
        needed = [prompt.needed] * len(flat)
    else:
        needed = tokens.lengths(tokenizer, [_format(prompt.budget_item, item, records[row], j)
                                            for row, j, item in flat])
    extra = tokens.lengths(tokenizer, [prompt.extra])[0] if prompt.extra else 0
    active = [row for row, items in enumerate(selections) if items]
    input_lengths = dict(zip(active, tokens.lengths(tokenizer, [inputs[row] for row in active])))
    cut_ids: list = [None] * len(flat)
    start = 0
    for row, items in enumerate(selections):
        stop = start + len(items)
        if items:
            cuts = plan_cuts(input_lengths[row], needed[start:stop], [len(i) for i in ids[start:stop]],
                             max_length=max_length, reserve=prompt.reserve, extra=extra, specials=specials,
                             faithful_bugs=faithful_bugs)
            if cuts is not None:
                for offset, keep in enumerate(cuts):
                    cut_ids[start + offset] = ids[start + offset][:keep]
        start = stop
    wanted = [i for i, c in enumerate(cut_ids) if c is not None]
    decoded = tokens.decode(tokenizer, [cut_ids[i] for i in wanted])
    texts: list = [None] * len(flat)
    for i, text in zip(wanted, decoded):
        texts[i] = text
    return texts
