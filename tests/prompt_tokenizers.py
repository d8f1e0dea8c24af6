"""Tokenizers for the prompt tests, built locally in milliseconds: ``chars`` has one token per character plus a
T5-like EOS (so token budgets can be worked out by hand), ``bpe`` is lampkit's tiny byte-level BPE (no special
tokens added)."""

import string

from tokenizers import Regex
from tokenizers import Tokenizer
from tokenizers import decoders
from tokenizers import models
from tokenizers import pre_tokenizers
from tokenizers import processors
from transformers import PreTrainedTokenizerFast

EXTRA_CHARS = "éëüøçãß—“”’…日本語"


def char_tokenizer(model_max_length: int = 512) -> PreTrainedTokenizerFast:
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for c in string.printable + EXTRA_CHARS:
        vocab.setdefault(c, len(vocab))
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("[\\s\\S]"), behavior="isolated")
    core.decoder = decoders.Fuse()
    core.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=core, eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
                                   model_max_length=model_max_length)


def bpe_tokenizer() -> PreTrainedTokenizerFast:
    from lampkit.modeling.tiny import train_tokenizer

    return train_tokenizer(chat=False)
