"""BM25 ranking with the exact arithmetic of ``rank_bm25`` 0.2.2 ``BM25Okapi``, compiled with numba.

The originals built one ``BM25Okapi`` per question over that question's profile, with ``str.split()`` tokens,
and sorted its scores. Here the same per-profile index is rebuilt inside one JIT-compiled loop over UTF-8
bytes, doing every floating-point operation in the order ``rank_bm25`` does it, so scores are bitwise equal:

- ``idf(t) = log(N - n + 0.5) - log(n + 0.5)``; the logs come from a table filled by Python's ``math.log``;
- the average idf sums the raw idf of the profile's distinct terms in order of first appearance; terms with a
  negative idf get ``epsilon * average_idf``;
- ``score(d) += idf * (tf * (k1 + 1) / (tf + k1 * ((1 - b) + b * dl / avgdl)))`` per query token, in query order
  with repetition (terms absent from a document add exactly zero, so they are skipped).

Tokens are ``str.split()`` tokens: runs of the 29 code points Python treats as whitespace.

Rankings put the highest score first and break exact ties by the lower profile index (``rank_bm25`` users
sorted with ``np.argsort(scores)[::-1]``, which puts tied items in reverse index order). Edge cases that make
``BM25Okapi`` raise ``ZeroDivisionError`` do not raise here: an empty profile gets an empty ranking, and a
profile whose documents hold no token at all scores every document 0.0 (identity order).

>>> bm25_rank(["red apple"], [["green pear", "red apple pie", "apple"]])
[[1, 2, 0]]
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: ``BM25Okapi`` defaults.
K1 = 1.5
B = 0.75
EPSILON = 0.25
#: Documents handled per compiled call; bounds the working memory whatever the number of questions.
CHUNK_DOCS = 1 << 14

_MIX = np.uint64(0xFF51AFD7ED558CCD)
_HIGH = np.int64(-(1 << 32))
_LOW = np.int64((1 << 32) - 1)
#: Byte classes: 1 = ASCII whitespace, 2 = lead byte of a possibly-whitespace multi-byte code point.
_CLASS = np.zeros(256, np.uint8)
_CLASS[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = 1
_CLASS[[0xC2, 0xE1, 0xE2, 0xE3]] = 2


@numba.njit(cache=True)
def _wide_space(buf, i, end):
    """Byte length of the multi-byte whitespace code point at ``buf[i]``, or 0 (``buf[i]`` has class 2)."""
    c = buf[i]
    if c == 0xC2:
        if i + 1 < end and (buf[i + 1] == 0x85 or buf[i + 1] == 0xA0):
            return 2  # U+0085, U+00A0
        return 0
    if i + 2 >= end:
        return 0
    d, e = buf[i + 1], buf[i + 2]
    if c == 0xE1:
        return 3 if d == 0x9A and e == 0x80 else 0  # U+1680
    if c == 0xE3:
        return 3 if d == 0x80 and e == 0x80 else 0  # U+3000
    if d == 0x80 and (0x80 <= e <= 0x8A or e == 0xA8 or e == 0xA9 or e == 0xAF):
        return 3  # U+2000..U+200A, U+2028, U+2029, U+202F
    return 3 if d == 0x81 and e == 0x9F else 0  # U+205F


@numba.njit(cache=True)
def _tokenize(buf, start, end, tok_start, tok_end, tok_hash, n):
    """Append the ``str.split()`` tokens of ``buf[start:end]`` (byte spans and hashes) from position
    ``n``; returns the new count."""
    i = start
    while i < end:
        k = _CLASS[buf[i]]
        if k == 1:
            i += 1
            continue
        if k == 2:
            width = _wide_space(buf, i, end)
            if width:
                i += width
                continue
        begin = i
        h = np.uint64(0)
        while True:
            h = ((h << np.uint64(7)) | (h >> np.uint64(57))) ^ np.uint64(buf[i])
            i += 1
            if i >= end:
                break
            k = _CLASS[buf[i]]
            if k == 1 or (k == 2 and _wide_space(buf, i, end)):
                break
        h = (h ^ (h >> np.uint64(33))) * _MIX
        tok_start[n], tok_end[n], tok_hash[n] = begin, i, h ^ (h >> np.uint64(29))
        n += 1
    return n


@numba.njit(cache=True, inline="always")
def _tag(h):
    """The hash's top 31 bits in bits 32..62 of a non-negative int64 slot (the low 32 bits hold the term id)."""
    return np.int64(h >> np.uint64(33)) << 32


@numba.njit(cache=True)
def _term_of(slots, mask, term_start, term_end, dbuf, h, buf, s, e):
    """Slot of the token ``buf[s:e]`` (hash ``h``) in the open-addressing table of terms: the slot holding
    that term, or the empty (-1) slot where it belongs. A slot packs hash bits and the term id."""
    tag = _tag(h)
    slot = np.int64(h & mask)
    while True:
        entry = slots[slot]
        if entry < 0:
            return slot
        if entry & _HIGH == tag:
            t = entry & _LOW
            if term_end[t] - term_start[t] == e - s:
                offset = term_start[t] - s
                k = s
                while k < e and dbuf[k + offset] == buf[k]:
                    k += 1
                if k == e:
                    return slot
        slot = (slot + 1) & mask


@numba.njit(cache=True)
def _bm25_chunk(qbuf, qoff, dbuf, doff, poff, logt, k1, c1, c0, b, epsilon, scores, ranks):
    """Scores and rankings (local indices, stable descending) of every question of a chunk; question ``q``
    has the query ``qbuf[qoff[q]:qoff[q+1]]`` and the documents ``poff[q]..poff[q+1]`` (byte spans ``doff``)."""
    n_questions = len(poff) - 1
    max_tok = 1
    max_q = 1
    for q in range(n_questions):
        d0, d1 = poff[q], poff[q + 1]
        max_tok = max(max_tok, (doff[d1] - doff[d0]) // 2 + (d1 - d0) + 1)
        max_q = max(max_q, (qoff[q + 1] - qoff[q]) // 2 + 1)
    tok_start = np.empty(max_tok, np.int64)
    tok_end = np.empty(max_tok, np.int64)
    tok_hash = np.empty(max_tok, np.uint64)
    tok_term = np.empty(max_tok, np.int32)
    term_start = np.empty(max_tok, np.int64)
    term_end = np.empty(max_tok, np.int64)
    df = np.empty(max_tok, np.int64)
    last_doc = np.empty(max_tok, np.int64)
    idf = np.empty(max_tok, np.float64)
    row_of = np.empty(max_tok, np.int32)
    cap = 1
    while cap < 2 * max_tok:
        cap *= 2
    slots = np.empty(cap, np.int64)
    q_start = np.empty(max_q, np.int64)
    q_end = np.empty(max_q, np.int64)
    q_hash = np.empty(max_q, np.uint64)
    q_term = np.empty(max_q, np.int32)

    for q in range(n_questions):
        d0, d1 = poff[q], poff[q + 1]
        n_docs = d1 - d0
        if n_docs == 0:
            continue
        score = scores[d0:d1]
        ranks[d0:d1] = np.arange(n_docs)
        doc_tok = np.empty(n_docs + 1, np.int64)
        doc_tok[0] = 0
        n_tok = 0
        for d in range(n_docs):
            n_tok = _tokenize(dbuf, doff[d0 + d], doff[d0 + d + 1], tok_start, tok_end, tok_hash, n_tok)
            doc_tok[d + 1] = n_tok
        if n_tok == 0:
            continue  # rank_bm25 divides by zero here; every score stays 0.0

        # Term ids in order of first appearance (the insertion order of rank_bm25's document-frequency dict),
        # with their document frequencies.
        size = 1
        while size < 2 * n_tok:
            size *= 2
        mask = np.uint64(size - 1)
        slots[:size] = -1
        n_terms = 0
        for d in range(n_docs):
            for j in range(doc_tok[d], doc_tok[d + 1]):
                h = tok_hash[j]
                slot = _term_of(slots, mask, term_start, term_end, dbuf, h, dbuf, tok_start[j], tok_end[j])
                if slots[slot] >= 0:
                    t = slots[slot] & _LOW
                    if last_doc[t] != d:
                        last_doc[t] = d
                        df[t] += 1
                else:
                    t = n_terms
                    n_terms += 1
                    slots[slot] = _tag(h) | t
                    term_start[t], term_end[t] = tok_start[j], tok_end[j]
                    last_doc[t] = d
                    df[t] = 1
                tok_term[j] = t
        idf_sum = 0.0
        for t in range(n_terms):
            idf[t] = logt[n_docs - df[t]] - logt[df[t]]
            idf_sum += idf[t]
        eps = epsilon * (idf_sum / n_terms)
        for t in range(n_terms):
            if idf[t] < 0:
                idf[t] = eps

        # Query tokens found among the profile's terms; each distinct one gets a row of term frequencies.
        n_q = _tokenize(qbuf, qoff[q], qoff[q + 1], q_start, q_end, q_hash, 0)
        row_of[:n_terms] = -1
        n_rows = 0
        for j in range(n_q):
            slot = _term_of(slots, mask, term_start, term_end, dbuf, q_hash[j], qbuf, q_start[j], q_end[j])
            t = slots[slot] & _LOW if slots[slot] >= 0 else -1
            q_term[j] = t
            if t >= 0 and row_of[t] < 0:
                row_of[t] = n_rows
                n_rows += 1
        if n_rows == 0:
            continue
        tf = np.zeros((n_rows, n_docs), np.int64)
        for d in range(n_docs):
            for j in range(doc_tok[d], doc_tok[d + 1]):
                r = row_of[tok_term[j]]
                if r >= 0:
                    tf[r, d] += 1

        avgdl = n_tok / n_docs
        norm = np.empty(n_docs, np.float64)
        for d in range(n_docs):
            norm[d] = k1 * (c0 + b * np.float64(doc_tok[d + 1] - doc_tok[d]) / avgdl)
        for j in range(n_q):
            t = q_term[j]
            if t < 0:
                continue
            w = idf[t]
            row = tf[row_of[t]]
            for d in range(n_docs):
                f = np.float64(row[d])
                if f > 0:
                    score[d] += w * (f * c1 / (f + norm[d]))
        ranks[d0:d1] = np.argsort(-score, kind="mergesort")


def _utf8(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """All ``texts`` as one UTF-8 byte array (lone surrogates kept, as ``str`` equality does) and byte offsets."""
    joined = "".join(texts)
    data = joined.encode("utf-8", "surrogatepass")
    if len(data) == len(joined):
        lengths = list(map(len, texts))
    else:
        lengths = [len(t) if t.isascii() else len(t.encode("utf-8", "surrogatepass")) for t in texts]
    offsets = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return np.frombuffer(data, np.uint8), offsets


def _chunks(profiles: list[list[str]]):
    """``(start, stop)`` question ranges holding about :data:`CHUNK_DOCS` documents each."""
    start = docs = 0
    for i, profile in enumerate(profiles):
        docs += len(profile)
        if docs >= CHUNK_DOCS:
            yield start, i + 1
            start, docs = i + 1, 0
    if start < len(profiles):
        yield start, len(profiles)


def _check(queries: list[str], profiles: list[list[str]]) -> None:
    if isinstance(queries, str) or isinstance(profiles, str):
        raise TypeError("queries and profiles are lists (one query, one profile per question), not a string")
    if len(queries) != len(profiles):
        raise ValueError(f"{len(queries)} queries but {len(profiles)} profiles")
    bad = next((i for i, profile in enumerate(profiles) if isinstance(profile, str)), None)
    if bad is not None:  # it would be ranked as a list of one-character documents
        raise TypeError(f"profile {bad} is a string; each profile is a list of document strings")


def iter_bm25(queries: list[str], profiles: list[list[str]], *, k1: float = K1, b: float = B,
              epsilon: float = EPSILON):
    """Yield ``(scores, ranking)`` numpy arrays per question, in order; see :func:`bm25_rank`."""
    _check(queries, profiles)
    longest = max(map(len, profiles), default=0)
    logt = np.array([math.log(n + 0.5) for n in range(longest + 1)], np.float64)
    c1, c0 = k1 + 1, 1 - b  # the Python float constants BM25Okapi.get_scores forms
    for start, stop in _chunks(profiles):
        qbuf, qoff = _utf8(queries[start:stop])
        part = profiles[start:stop]
        dbuf, doff = _utf8([doc for profile in part for doc in profile])
        poff = np.zeros(len(part) + 1, np.int64)
        np.cumsum([len(p) for p in part], out=poff[1:])
        scores = np.zeros(poff[-1], np.float64)
        ranks = np.zeros(poff[-1], np.int64)
        _bm25_chunk(qbuf, qoff, dbuf, doff, poff, logt, float(k1), float(c1), float(c0), float(b),
                    float(epsilon), scores, ranks)
        for q in range(len(part)):
            yield scores[poff[q]:poff[q + 1]].copy(), ranks[poff[q]:poff[q + 1]].copy()


def bm25_scores(queries: list[str], profiles: list[list[str]], *, k1: float = K1, b: float = B,
                epsilon: float = EPSILON) -> list[np.ndarray]:
    """Per question, ``BM25Okapi(profile tokens).get_scores(query tokens)``, bitwise (float64 arrays)."""
    return [scores for scores, _ in iter_bm25(queries, profiles, k1=k1, b=b, epsilon=epsilon)]


def bm25_rank(queries: list[str], profiles: list[list[str]], *, k1: float = K1, b: float = B,
              epsilon: float = EPSILON) -> list[list[int]]:
    """Rank each question's profile (a list of document strings) by BM25Okapi score against its query.

    Returns, per question, every profile index, best first, exact ties to the lower index; an empty profile
    gives ``[]``.
    """
    return [ranking.tolist() for _, ranking in iter_bm25(queries, profiles, k1=k1, b=b, epsilon=epsilon)]
