"""METEOR as ``evaluate.load("meteor")`` computes it, offline (``huggingface/evaluate:metrics/meteor/meteor.py``).

Per pair: ``nltk.word_tokenize`` on the stripped prediction and gold, then nltk's ``meteor_score`` with the
gold as the only reference, ``alpha=0.9, beta=3, gamma=0.5``; the result is ``numpy.mean`` of those, as in
evaluate. The punkt_tab tables and WordNet 3.0 come from ``python -m lampkit.nltk_data``; nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence

from lampkit import nltk_data


def meteor_score(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Mean METEOR over the pairs; LampkitError naming the set-up command if the NLTK data is missing."""
    nltk_data.require()
    import numpy as np
    from nltk import word_tokenize
    from nltk.translate.meteor_score import meteor_score as nltk_meteor

    scores = [nltk_meteor([word_tokenize(r.strip())], word_tokenize(p.strip()), alpha=0.9, beta=3, gamma=0.5)
              for p, r in zip(predictions, references)]
    return float(np.mean(scores))
