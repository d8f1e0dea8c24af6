"""Tiny random-weight models built from configs, with a byte-level BPE tokenizer trained locally: for tests and
benchmarks that must not download anything. Built in seconds; any text is encodable (byte-level alphabet).

>>> import tempfile
>>> folder = build_tiny_model(tempfile.mkdtemp(), "llama", texts=["a tiny corpus", "of two lines"])
>>> from transformers import AutoConfig
>>> AutoConfig.from_pretrained(folder).model_type
'llama'
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

#: A minimal chat template (ChatML-like), so that the chat-template path of the recipes runs on tiny models too.
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SPECIAL_TOKENS = ("<pad>", "<s>", "</s>", "<unk>", "<|user|>", "<|assistant|>", "<|system|>")


def _default_texts() -> list[str]:
    from ..tasks import TASKS

    texts = []
    for task in TASKS.values():
        texts += [task.input_template, task.prompt.item, task.prompt.prompt, " ".join(task.labels)]
    return [t for t in texts if t]


def train_tokenizer(texts: Iterable[str] | None = None, vocab_size: int = 512, chat: bool = True):
    """A ``PreTrainedTokenizerFast`` with a byte-level BPE trained on ``texts`` (default: the registry's templates)."""
    from tokenizers import Tokenizer
    from tokenizers import decoders
    from tokenizers import models
    from tokenizers import pre_tokenizers
    from tokenizers import trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    core.train_from_iterator(list(texts) if texts is not None else _default_texts(), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                                        unk_token="<unk>", model_max_length=512)
    if chat:
        tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_model(folder: str | Path, kind: str = "llama", texts: Iterable[str] | None = None, seed: int = 0,
                     chat: bool | None = None) -> str:
    """Write a tiny random ``kind`` model (``llama``: causal, ``t5``: encoder-decoder) and its tokenizer to
    ``folder``; returns the folder. Same ``seed`` and ``texts``, same weights."""
    import torch
    from transformers import LlamaConfig
    from transformers import LlamaForCausalLM
    from transformers import T5Config
    from transformers import T5ForConditionalGeneration

    tokenizer = train_tokenizer(texts, chat=(kind == "llama") if chat is None else chat)
    ids = dict(pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(seed)
    if kind == "llama":
        config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                             bos_token_id=tokenizer.bos_token_id, tie_word_embeddings=True, **ids)
        model = LlamaForCausalLM(config)
    elif kind == "t5":
        config = T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                          decoder_start_token_id=tokenizer.pad_token_id, **ids)
        model = T5ForConditionalGeneration(config)
    else:
        raise ValueError(f"unknown tiny model kind {kind!r}; known: llama, t5")
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.suppress_tokens = [tokenizer.pad_token_id]  # random weights favour it otherwise
    folder = Path(folder)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)
