"""ROUGE-1 and ROUGE-L F-measure with ``rouge_score`` (its default tokenizer, no stemming), on stripped text.

``mean`` (the default) is the exact mean of the per-example F-measures, summed with ``math.fsum`` so that
it does not depend on example order. ``bootstrap`` mirrors ``evaluate``'s ROUGE, which the official scorer
used: rouge_score's ``BootstrapAggregator`` (1,000 resamples) over rouge1, rouge2, rougeL and rougeLsum in
that order, reporting the ``mid`` F-measure; numpy's global generator is seeded with ``seed`` for the call
and restored afterwards, so the result is repeatable. The official one is not:
``LaMP-Benchmark/LaMP:eval/evaluation.py`` takes the gold ids from a ``set``, so its example order, and with it the
bootstrap, changes with string hash randomisation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: lampkit key -> rouge_score type.
ROUGE_TYPES = {"rouge-1": "rouge1", "rouge-L": "rougeL"}
#: The types ``evaluate.load("rouge")`` computes by default, in its order (the bootstrap draws depend on it).
EVALUATE_ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")


def rouge_scores(predictions: Sequence[str], references: Sequence[str], *, aggregation: str = "mean",
                 seed: int = 0) -> dict[str, float]:
    """``rouge-1`` and ``rouge-L`` over the pairs.

    >>> rouge_scores(["the cat sat", " "], ["The cat sat on the mat.", "anything"])
    {'rouge-1': 0.3333333333333333, 'rouge-L': 0.3333333333333333}
    """
    from rouge_score import rouge_scorer

    preds = [p.strip() for p in predictions]
    refs = [r.strip() for r in references]
    if aggregation == "mean":
        scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES.values()), use_stemmer=False)
        per_example = [scorer.score(r, p) for r, p in zip(refs, preds)]
        return {key: math.fsum(s[kind].fmeasure for s in per_example) / len(per_example)
                for key, kind in ROUGE_TYPES.items()}
    return _bootstrap(preds, refs, seed)


def _bootstrap(preds: list[str], refs: list[str], seed: int) -> dict[str, float]:
    import numpy as np
    from rouge_score import rouge_scorer
    from rouge_score import scoring

    scorer = rouge_scorer.RougeScorer(list(EVALUATE_ROUGE_TYPES), use_stemmer=False)
    aggregator = scoring.BootstrapAggregator()
    for r, p in zip(refs, preds):
        aggregator.add_scores(scorer.score_multi([r], p))
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        result = aggregator.aggregate()
    finally:
        np.random.set_state(state)
    return {key: float(result[kind].mid.fmeasure) for key, kind in ROUGE_TYPES.items()}
