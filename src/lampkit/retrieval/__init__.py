"""Profile retrieval: BM25 (bitwise ``rank_bm25``), dense (sentence-transformers) and recency rankings, as
functions and as dataset columns. Semantics and differences from the originals: ``docs/retrieval.md``."""

from .bm25 import bm25_rank
from .bm25 import bm25_scores
from .bm25 import iter_bm25
from .columns import RANKERS
from .columns import add_ranking_columns
from .columns import parse_rankers
from .columns import ranking_column
from .columns import top_k
from .dense import DenseModel
from .dense import dense_rank
from .dense import load_dense_model
from .recency import parse_date
from .recency import recency_rank
from .texts import document_texts
from .texts import query_text

__all__ = [
    "RANKERS", "DenseModel", "add_ranking_columns", "bm25_rank", "bm25_scores", "dense_rank", "document_texts",
    "iter_bm25", "load_dense_model", "parse_date", "parse_rankers", "query_text", "ranking_column",
    "recency_rank", "top_k",
]
