"""Argument dataclasses the recipes share, parsed by ``trl.TrlParser`` (``--config recipes/<x>.yaml`` plus
command-line overrides of any field), and their checks, which run before any model, training or generation.

Field names never clash with ``transformers.TrainingArguments`` / ``trl.SFTConfig`` (``prompt_max_length``, not
``max_length``; ``adapter_repo_id``, not ``hub_model_id``), so one parser holds them together.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields

from .errors import LampkitError
from .modeling.embedded import EMBEDDED_MODEL
from .modeling.generation import Decoding
from .paths import tidy_text_args

TRAIN_MODES = ("questions", "profile_items")
DTYPES = ("float32", "bfloat16", "float16")


@dataclass
class ModelArguments:
    # model
    model_name_or_path: str = field(default=EMBEDDED_MODEL, metadata={"help": "embedded name, folder or Hub repo"})
    model_revision: str | None = None
    dtype: str = field(default="float32", metadata={"help": " or ".join(DTYPES)})
    use_chat_template: bool | None = field(
        default=None, metadata={"help": "causal models: prompts as a chat turn (default: where the tokenizer has a "
                                        "chat template); raw text when false"})

    def __post_init__(self):
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")


@dataclass
class DataArguments:
    # data
    dataset_name: str = field(default="out/lamp", metadata={"help": "a built dataset folder or Hub dataset repo"})
    dataset_config: str = field(default="LaMP_3_time", metadata={"help": "a config such as LaMP_4_user"})
    dataset_revision: str | None = None
    train_split: str = "train"
    eval_split: str = "validation"
    ranking: str | None = field(default="ranking_bm25", metadata={"help": "ranking column or on-the-fly ranker"})
    k: int = field(default=1, metadata={"help": "retrieved profile items per prompt; 0 = non-personalised"})
    style: str = field(default="lamp", metadata={"help": "prompt style: lamp, longlamp, longlamp_llama, oppu"})
    prompt_max_length: int = field(default=256, metadata={"help": "token budget of a prompt (LaMP: 256)"})
    profile_column: str | None = field(default=None, metadata={"help": "PAG summary column (oppu style)"})
    max_questions: int | None = field(default=None, metadata={"help": "evaluate on the first N questions only"})
    max_train_questions: int | None = None


@dataclass
class PeftArguments:
    # PEFT
    peft_method: str = field(default="lora", metadata={"help": "lora, ia3, prompt_tuning, vera or full"})
    lora_r: int = 8
    lora_alpha: int = 8
    lora_dropout: float = 0.05
    lora_target_modules: list[str] | None = None
    use_rslora: bool = False
    num_virtual_tokens: int = 8
    prompt_tuning_init: str = field(default="random", metadata={"help": "prompt tuning's start: random (PEFT's) or "
                                                                        "sample_vocab (embeddings of random tokens)"})


@dataclass
class DecodingArguments:
    # decoding
    max_new_tokens: int = 128
    min_new_tokens: int = 0
    num_beams: int = 1
    do_sample: bool = False
    temperature: float = 1.0
    top_k: int = 50
    top_p: float = 1.0
    generation_seed: int = 0
    generation_batch_size: int = 16

    def decoding(self) -> Decoding:
        return Decoding(max_new_tokens=self.max_new_tokens, min_new_tokens=self.min_new_tokens,
                        num_beams=self.num_beams, do_sample=self.do_sample, temperature=self.temperature,
                        top_k=self.top_k, top_p=self.top_p, seed=self.generation_seed)


@dataclass
class AdapterHubArguments:
    # adapter on the Hub
    push_adapter: bool = False
    adapter_repo_id: str | None = None
    adapter_revision: str | None = None
    public: bool = field(default=False, metadata={"help": "push public (licensed-data adapters stay private "
                                                          "unless this is set)"})


@dataclass
class FolderPushArguments:
    # push the output folder to the Hub
    push_to_hub: bool = False
    hub_repo_id: str | None = field(default=None, metadata={"help": "needed with push_to_hub"})
    hub_private: bool = True

    def check(self) -> None:
        """Before any work: a push needs a valid repo id."""
        if self.push_to_hub and not self.hub_repo_id:
            raise LampkitError("push_to_hub needs a hub_repo_id", field="hub_repo_id")
        if self.push_to_hub:
            from .hub import check_repo_id
            from .hub import check_token

            check_repo_id(self.hub_repo_id, field="hub_repo_id")
            check_token("push_to_hub")

    def push(self, folder, repo_type: str) -> str | None:
        """Upload ``folder`` where asked (private unless ``hub_private`` is false); prints and returns the URL."""
        if not self.push_to_hub:
            return None
        from .hub import push_folder

        url = push_folder(folder, self.hub_repo_id, repo_type=repo_type, private=self.hub_private)
        print(url)
        return url


def parse_recipe_args(types, argv: list[str] | None = None) -> tuple:
    """``trl.TrlParser(types).parse_args_and_config(argv)``, with a config file that cannot be read, is not YAML,
    is not a mapping or names an unknown field reported as one LampkitError naming the file (and field), and a
    command-line value argparse refuses as one naming the field (not argparse's usage text and exit)."""
    import re
    import sys

    import yaml
    from trl import TrlParser

    class Parser(TrlParser):
        def error(self, message):  # argparse would print its whole usage (150 lines for sft_task) above the error
            named = re.match(r"argument (?:--)?([\w-]+)[^:]*: (.*)", message)
            required = re.match(r"the following arguments are required: --([\w-]+)", message)
            name = (named or required).group(1) if named or required else None
            raise LampkitError(f"{(named.group(2) if named else message).rstrip('.')}; see --help for the fields",
                               field=name.replace("-", "_") if name else None)

    args = list(sys.argv[1:] if argv is None else argv)
    path = args[args.index("--config") + 1] if "--config" in args[:-1] else None
    try:
        parsed = Parser(types).parse_args_and_config(args)
    except OSError as err:
        raise LampkitError(f"cannot read the config file: {err.strerror or err}", file=path, field="config") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise LampkitError(f"not valid YAML{where}: {getattr(err, 'problem', None) or err}", file=path,
                           field="config") from None
    except ValueError as err:  # TRL's config checks, and the argument dataclasses' own (``__post_init__``)
        message = " ".join(str(err).split())
        from_file = path is not None and "config file" in message.lower()
        unknown = [a[2:] for a in re.findall(r"'([^']*)'", message) if a.startswith("--")]
        if from_file or "not used by the HfArgumentParser" in message:
            raise LampkitError(f"unknown field(s) {', '.join(unknown)}; see --help for the fields" if unknown else
                               "the config file must hold a YAML mapping of field: value",
                               file=path if from_file else None, field=unknown[0] if unknown else "config") from None
        names = {f.name for t in types for f in fields(t)}
        named = sorted((m.start(), m.group()) for m in re.finditer(r"\w+", message) if m.group() in names)
        name = named[0][1] if named else None
        given_here = name is not None and any(a.split("=")[0].replace("-", "_") == f"__{name}" for a in args)
        raise LampkitError(message, file=None if given_here else path, field=name) from None
    for obj in parsed:  # "~/..." expanded, non-Unicode text refused, as the lampkit command does
        values = {f.name: vars(obj)[f.name] for f in fields(obj) if f.name in vars(obj)}  # no deprecated getters
        tidy = dict(values)
        tidy_text_args(tidy, str)
        for name in (n for n in values if tidy[n] != values[n]):
            setattr(obj, name, tidy[name])
    return parsed


def check_count(value, name: str, *, zero: bool = False) -> None:
    """A LampkitError naming field ``name`` unless ``value`` is None or a whole number >= 1 (>= 0 with ``zero``)."""
    if value is not None and (not isinstance(value, int) or value < (0 if zero else 1)):
        raise LampkitError(f"must be a whole number >= {0 if zero else 1}, got {value!r}", field=name)


def check_between(value: float, name: str, low: float, high: float, *, low_open: bool = False,
                  high_open: bool = False) -> None:
    """A LampkitError naming field ``name`` unless ``low <= value <= high`` (``<`` on a side marked open)."""
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    if not (above and below):
        span = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise LampkitError(f"must lie in {span}, got {value!r}", field=name)


def check_above(value, name: str, low: float = 0, *, strict: bool = True, note: str = "") -> None:
    """A LampkitError naming field ``name`` unless ``value > low`` (``>=`` where not ``strict``); NaN fails."""
    if not (value > low if strict else value >= low):
        raise LampkitError(f"must be {'above' if strict else 'at least'} {low}{note}, got {value!r}", field=name)


def check_trainer_numbers(args) -> None:
    """The optimisation numbers of a ``transformers.TrainingArguments`` that the Trainer takes without a word (a
    negative learning rate climbs the loss, ``num_train_epochs: 0`` saves an untrained adapter, ``max_steps: -5``
    quietly trains by epochs) or refuses only with a traceback once the model is loaded (a batch size or
    gradient accumulation of 0, a seed numpy cannot take)."""
    check_above(args.learning_rate, "learning_rate")
    check_above(args.weight_decay, "weight_decay", strict=False)
    if args.max_grad_norm is not None:
        check_above(args.max_grad_norm, "max_grad_norm", strict=False, note=" (0 turns clipping off)")
    for name in ("per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps"):
        check_count(getattr(args, name), name)
    if args.max_steps == 0 or args.max_steps < -1:
        raise LampkitError(f"must be a whole number >= 1, or -1 to train num_train_epochs, got {args.max_steps}",
                           field="max_steps")
    if args.max_steps == -1:
        check_above(args.num_train_epochs, "num_train_epochs", note=" where max_steps is -1")
    for name in ("seed", "data_seed"):
        value = getattr(args, name)
        if value is not None and not 0 <= value < 2**32:
            raise LampkitError(f"must lie in [0, 2**32), got {value}", field=name)


def check_peft_values(r: int, alpha: int, dropout: float, num_virtual_tokens: int) -> None:
    """The numbers of a PEFT configuration, checked before any model loads (PEFT itself would raise only once the
    model is wrapped)."""
    for value, name in ((r, "lora_r"), (alpha, "lora_alpha"), (num_virtual_tokens, "num_virtual_tokens")):
        check_count(value, name)
    check_between(dropout, "lora_dropout", 0, 1, high_open=True)


def check_decoding(decoding: DecodingArguments) -> None:
    """Decoding settings that ``generate`` would refuse only after the model loads, or would take without a word
    (``top_p`` above 1 samples from the whole vocabulary)."""
    check_count(decoding.max_new_tokens, "max_new_tokens")
    check_count(decoding.min_new_tokens, "min_new_tokens", zero=True)
    if decoding.min_new_tokens > decoding.max_new_tokens:
        raise LampkitError(f"must not exceed max_new_tokens ({decoding.max_new_tokens}), got "
                           f"{decoding.min_new_tokens}", field="min_new_tokens")
    check_count(decoding.num_beams, "num_beams")
    check_count(decoding.generation_batch_size, "generation_batch_size")
    if decoding.do_sample:
        check_above(decoding.temperature, "temperature", note=" when sampling (do_sample false decodes greedily)")
        check_between(decoding.top_p, "top_p", 0, 1, low_open=True)
        check_count(decoding.top_k, "top_k", zero=True)


def leave_process_group() -> None:
    """Tear this process's ``torch.distributed`` group down before it exits: left to interpreter exit, gloo's
    threads can abort the process (``terminate called without an active exception``) while another rank still
    works, and the launcher then stops them all."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def launched_processes() -> int:
    """How many processes the launcher started (``WORLD_SIZE``; 1 without a launcher)."""
    import os

    return int(os.environ.get("WORLD_SIZE", "1"))


def check_one_process(recipe: str) -> None:
    """A LampkitError unless this is the only process launched: a recipe that does not split its work would run
    whole in every process, each writing the same output folder."""
    world = launched_processes()
    if world > 1:
        raise LampkitError(f"{recipe} runs in one process, {world} were launched: run it with python, or accelerate "
                           "launch --num_processes 1", field="num_processes")


def check_args(model: ModelArguments, data: DataArguments, decoding: DecodingArguments | None = None,
               peft: PeftArguments | None = None) -> tuple:
    """Check the arguments without loading anything heavy; returns (task, split kind, seq2seq)."""
    from .modeling import is_seq2seq
    from .modeling.peft_methods import check_method
    from .modeling.peft_methods import check_prompt_init
    from .prompts.build import style_prompt
    from .tasks import parse_config_name

    try:
        task, kind = parse_config_name(data.dataset_config)
    except KeyError as err:
        raise LampkitError(err.args[0], field="dataset_config") from None
    check_count(data.k, "k", zero=True)
    check_count(data.prompt_max_length, "prompt_max_length")
    check_count(data.max_questions, "max_questions")
    check_count(data.max_train_questions, "max_train_questions")
    style_prompt(task, data.style)
    if peft is not None:
        check_method(peft.peft_method)
        check_prompt_init(peft.prompt_tuning_init)
        check_peft_values(peft.lora_r, peft.lora_alpha, peft.lora_dropout, peft.num_virtual_tokens)
    if decoding is not None:
        check_decoding(decoding)
    seq2seq = is_seq2seq(model.model_name_or_path, model.model_revision)
    if seq2seq and model.use_chat_template:
        raise LampkitError("an encoder-decoder model takes raw text; use_chat_template is for causal models",
                           field="use_chat_template")
    return task, kind, seq2seq


def load_split(data: DataArguments, split: str, limit: int | None = None):
    """One split of the built dataset, its first ``limit`` rows where given; a LampkitError naming the field when
    the dataset, config or split is not there."""
    from .loading import load_built_split

    return load_built_split(data.dataset_name, data.dataset_config, split, revision=data.dataset_revision,
                            limit=limit, split_field="eval_split" if split == data.eval_split else "train_split")
