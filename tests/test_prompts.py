"""lampkit.prompts: expected strings written by hand from the original templates
(``LaMP-Benchmark/LaMP:LaMP/prompts/prompts.py``, ``LongLaMP-benchmark/LongLaMP-Benchmark:longLaMP/prompts/``,
``TamSiuhin/OPPU:prompt/*.json``). Budgets are worked out with a one-token-per-character tokenizer that appends
an EOS, so every token count below is a character count plus one."""

import importlib.util
import json
import re
from pathlib import Path

import datasets
import pytest
from prompt_tokenizers import bpe_tokenizer
from prompt_tokenizers import char_tokenizer

from lampkit.errors import LampkitError
from lampkit.prompts import get_ranker
from lampkit.prompts import profile_summary_prompt
from lampkit.prompts import rag_prompt
from lampkit.prompts import to_prompt_completion
from lampkit.prompts import user_training_pairs
from lampkit.tasks import TASKS

ROOT = Path(__file__).resolve().parents[1]
H4 = "Generate a headline for the following article: x"  # 48 chars: 49 tokens


@pytest.fixture(scope="module")
def chars():
    return char_tokenizer()


def row(inp, profile, **extra):
    return {"id": "q1", "input": inp, "profile": profile, "output": "gold", **extra}


def lamp(r, task, k, tok, max_length, **kw):
    return rag_prompt(r, task, ranking=None, k=k, tokenizer=tok, max_length=max_length, **kw)


# ---- LaMP budget -------------------------------------------------------------------------------------------------
def test_lamp4_cut_with_carry(chars):
    # B = 120 - 49 = 71; per = (71 - 1 - 2) // 2 = 34; fixed part '"T1" is the title for " " ' = 27 tokens.
    # item 1: limit 7, text "ab" keeps its 2 chars (3 tokens), saving 34 - 3 - 27 = 4; item 2: limit 11 → 10 chars.
    r = row(H4, [{"title": "T1", "text": "ab"}, {"title": "T2", "text": "klmnopqrstuvwxyz"}])
    assert lamp(r, "LaMP_4", 2, chars, 120) == (
        '"T1" is the title for "ab" , and "T2" is the title for "klmnopqrst" . '
        "Generate a headline for the following article: x")


def test_lamp4_back_off_to_factor_03(chars):
    # max 100: f=.6 and .5 give B=51, per=24 < 28 (fixed part with a 3-char title): fail; f=.4: B=60, per=28,
    # limit 0: fails (the originals kept the whole field there); f=.30000000000000004: B=70, per=33, limit 5 → 4 chars.
    r = row(H4, [{"title": "T10", "text": "abcdefghij"}, {"title": "T20", "text": "klmnopqrst"}])
    assert lamp(r, "LaMP_4", 2, chars, 100) == (
        '"T10" is the title for "abcd" , and "T20" is the title for "klmn" . '
        "Generate a headline for the following article: x")


def test_faithful_bugs_keeps_whole_field_at_limit_zero(chars):
    # one item, title of 25 chars: fixed part 50 tokens; f=.6: B=51, per=50, limit 0.
    r = row(H4, [{"title": "ABCDEFGHIJKLMNOPQRSTUVWXY", "text": "abcdefghijklmnop"}])
    # default: f=.5 fails the same way, f=.4: B=60, per=59, limit 9 → 8 chars
    assert lamp(r, "LaMP_4", 1, chars, 100) == (
        '"ABCDEFGHIJKLMNOPQRSTUVWXY" is the title for "abcdefgh" . ' + H4)
    assert lamp(r, "LaMP_4", 1, chars, 100, faithful_bugs=True) == (
        '"ABCDEFGHIJKLMNOPQRSTUVWXY" is the title for "abcdefghijklmnop" . ' + H4)


def test_tiny_max_length_returns_input(chars):
    r = row(H4, [{"title": "T1", "text": "abc"}])
    assert lamp(r, "LaMP_4", 1, chars, 20) == H4


def test_empty_profile_k0_and_k_beyond_profile(chars):
    assert lamp(row(H4, []), "LaMP_4", 3, chars, 256) == H4
    assert lamp(row(H4, [{"title": "T", "text": "t"}]), "LaMP_4", 0, chars, 256) == H4
    # k = 5 over 1 item: the budget is shared by the 1 item actually there
    assert lamp(row(H4, [{"title": "T", "text": "t"}]), "LaMP_4", 5, chars, 256) == '"T" is the title for "t" . ' + H4


def test_lamp1_insertion_and_quotes_in_titles(chars):
    inp = ('For an author who has written the paper with the title "Q", which reference is related? Just answer '
           'with [1] or [2] without explanation. [1]: "R1" [2]: "R2"')
    r = row(inp, [{"title": 'He said "hi"', "abstract": "a"}, {"title": "B", "abstract": "b"}])
    assert lamp(r, "LaMP_1", 2, chars, 512) == (
        'For an author who has written the paper with the title, and "He said "hi"", and "B" "Q", which reference '
        'is related? Just answer with [1] or [2] without explanation. [1]: "R1" [2]: "R2"')
    # 156 chars = 157 tokens > int(0.6 * 256): B = 256 - 153 = 103; per = (103 - 2) // 2 = 50 (no -1);
    # limit 50 - 2 = 48 → 47 chars
    r = row(inp, [{"title": "x" * 60, "abstract": "a"}, {"title": "B", "abstract": "b"}])
    assert lamp(r, "LaMP_1", 2, chars, 256) == inp.replace(
        "the title", 'the title, and "' + "x" * 47 + '", and "B"', 1)


def test_lamp5_budget_template_and_extra(chars):
    inp = "Generate a title for the following abstract of a paper: an abstract"  # 68 tokens
    # B = 150 - 68 = 82; per = (82 - 1 - 2 - 29) // 2 = 25 ("Following the given patterns" = 29 tokens);
    # fixed part '"T" is a title " " ' = 20 tokens → limit 5 → 4 chars each
    r = row(inp, [{"title": "T", "abstract": "abcdefghij"}, {"title": "U", "abstract": "klmnopqrst"}])
    assert lamp(r, "LaMP_5", 2, chars, 150) == (
        '"T" is a title for "abcd" , and "U" is a title for "klmn" . Following the given patterns ' + inp)


def test_lamp7_extra_and_empty_quotes_template(chars):
    inp = "Paraphrase the following tweet without any explanation before or after it: hi"  # 78 tokens
    # B = 200 - 78 = 122; per = (122 - 1 - 2 - 50) // 2 = 34; fixed part '"" ' = 4 → limit 30 → 29 chars
    r = row(inp, [{"text": "x" * 40}, {"text": "yyyyy"}])
    assert lamp(r, "LaMP_7", 2, chars, 200) == (
        '"' + "x" * 29 + '" , and "yyyyy"  are written by a person. Following the given patterns ' + inp)


def test_lamp2_lamp2n_lamp3_lamp6_templates_and_unicode(chars):
    assert lamp(row("Q description: d", [{"description": "Zoë’s café", "tag": "comedy"}]), "LaMP_2", 1, chars,
                256) == 'the tag for the movie: "Zoë’s café" is "comedy" . Q description: d'
    assert lamp(row("Q article: a", [{"text": "t", "title": "x", "category": "sports"}]), "LaMP_2N", 1, chars,
                256) == 'the category for the article: "t" is "sports" . Q article: a'
    assert lamp(row("Q review: r", [{"text": "good", "score": "5"}]), "LaMP_3", 1, chars, 256) == (
        '5 is the score for "good" . Q review: r')
    assert lamp(row("E: body", [{"text": "日本語", "title": "S"}]), "LaMP_6", 1, chars, 256) == (
        '"S" is the title for "日本語" . E: body')


def test_ranking_column_and_on_the_fly_rankers(chars):
    profile = [{"title": "A", "text": "a", "date": "2001"}, {"title": "B", "text": "b", "date": "2009"},
               {"title": "C", "text": "c", "date": "2005"}]
    r = row(H4, profile, ranking_bm25=[2, 0, 1])
    assert rag_prompt(r, "LaMP_4", ranking="ranking_bm25", k=2, tokenizer=chars, max_length=256) == (
        '"C" is the title for "c" , and "A" is the title for "a" . ' + H4)
    assert rag_prompt(r, "LaMP_4", ranking="recency", k=1, tokenizer=chars, max_length=256).startswith('"B"')
    draws = get_ranker("random")(r, 50, seed=3)
    assert draws == get_ranker("random")(r, 50, seed=3) != get_ranker("random")(r, 50, seed=4)
    assert len(draws) == 50 and set(draws) == {0, 1, 2}  # with replacement
    with pytest.raises(LampkitError, match="ranking_dense"):
        rag_prompt(r, "LaMP_4", ranking="ranking_dense", k=1, tokenizer=chars, max_length=256)


def _originals():
    spec = importlib.util.spec_from_file_location("bench_prompts", ROOT / "bench" / "bench_prompts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("make", [char_tokenizer, bpe_tokenizer], ids=["chars+eos", "bpe"])
def test_batched_equals_one_call_per_item(make):
    originals = _originals()
    tok = make()
    rows = originals.make_rows(60, seed=1)
    ds = datasets.Dataset.from_list(rows)
    for max_length in (64, 256):
        got = to_prompt_completion(ds, "LaMP_4", k=4, tokenizer=tok, max_length=max_length)["prompt"]
        want = [originals.originals_way(r["input"], [r["profile"][i] for i in r["ranking_bm25"][:4]], TASKS["LaMP_4"],
                                        tok, max_length) for r in rows]
        assert got == want


# ---- LongLaMP ----------------------------------------------------------------------------------------------------
def test_longlamp_flant5_cuts_to_model_max():
    tok = char_tokenizer(model_max_length=6)  # 5 chars + EOS
    r = row("Write a review.", [{"overall": 5.0, "summary": "S", "description": "D", "reviewText": "abcdefghij"}])
    assert rag_prompt(r, "product_review", ranking=None, k=1, tokenizer=tok, max_length=9, style="longlamp") == (
        '"5.0" is a rating for the product with description "D". "S" is summary for "abcde" . Following the given '
        "patterns Write a review.")
    r = row("Write about x.", [{"summary": "S", "content": "abcdefgh"}, {"summary": "T", "content": "ij"}])
    assert rag_prompt(r, "topic_writing", ranking=None, k=2, tokenizer=tok, max_length=9, style="longlamp") == (
        '"S" is a summary for "abcde" , and "T" is a summary for "ij" . Following the given patterns, Write about x.')
    long_abstract = " ".join(["w"] * 800)
    r = row("items: a", [{"title": "T", "abstract": long_abstract}])
    got = rag_prompt(r, "abstract_generation", ranking=None, k=1, tokenizer=char_tokenizer(2000), style="longlamp")
    assert got == ('"' + " ".join(["w"] * 750) + '" is the abstract for the title "T". Use the above abstracts as '
                   "context to understand the style and language of the user and, items: a")


def test_longlamp_llama_variants():
    review = " ".join(str(i) for i in range(120))
    r = row("Write a review.", [{"overall": 5.0, "summary": "S", "description": "D", "reviewText": review}])
    assert rag_prompt(r, "product_review", ranking=None, k=1, style="longlamp_llama") == (
        'Below are a list of review texts by the reviewer:, and "' + " ".join(str(i) for i in range(100))
        + '". Use the above list of review texts by the reviewer as context to understand the writing style and '
        "language of the reviewer and, Write a review.")
    r = row("Complete: e", [{"title": "S", "text": "body  text"}])
    assert rag_prompt(r, "email_generation", ranking=None, k=1, style="longlamp_llama") == (
        '"S" is the title for "body  text" . Following the given patterns Complete: e')
    with pytest.raises(LampkitError, match="lamp task"):
        rag_prompt(r, "LaMP_4", ranking=None, k=1, style="longlamp_llama")


# ---- OPPU and PAG ------------------------------------------------------------------------------------------------
def test_oppu_headline_prompt_with_history_and_profile():
    profile = [{"id": "1", "text": "rain  in  Paris", "title": "Wet"}, {"id": "2", "text": "sun in Rome", "title": "Dry"},
               {"id": "3", "text": "snow in Oslo", "title": "Cold"}]
    r = row("Generate a headline for the following article: sun in  Rome today", profile, profile_summary="P")
    assert rag_prompt(r, "LaMP_4", ranking=None, k=0, style="oppu") == (
        "Generate a headline for the following article.\narticle: sun in  Rome today headline:")
    got = rag_prompt(r, "LaMP_4", ranking=None, k=1, style="oppu", profile_column="profile_summary")
    assert got == ("P\narticle: sun in Rome headline: Dry\n\nGenerate a headline for the following article.\n"
                   "article: sun in  Rome today headline:")


def test_oppu_citation_fixed_and_faithful():
    inp = ('For an author who has written the paper with the title "My Paper", which reference is related? Just '
           'answer with [1] or [2] without explanation. [1]: "Ref One" [2]: "Ref Two"')
    ds = datasets.Dataset.from_list([{"id": "q", "input": inp, "output": "[2]", "profile": [{"title": "t"}]}])
    head = ("Identify the most relevant reference for the listed publication by the researcher. Select the reference "
            "paper that is most closely related to the researcher's work.\npaper title: My Paper")
    fixed = to_prompt_completion(ds, "LaMP_1", style="oppu", k=0)[0]
    assert fixed["prompt"] == head + '\n[1]: "Ref One"\n[2]: "Ref Two"\nreference:' and fixed["completion"] == " [2]"
    bug = to_prompt_completion(ds, "LaMP_1", style="oppu", k=0, faithful_bugs=True)[0]
    assert bug["prompt"] == head + " reference:" and bug["completion"] == " Ref One"


def test_oppu_user_pairs_use_earlier_items_only():
    profile = [{"id": "1", "text": "apple pie", "title": "A"}, {"id": "2", "text": "apple tart", "title": "B"},
               {"id": "3", "text": "pear", "title": "C"}]
    pairs = user_training_pairs(profile, "LaMP_4", style="oppu", user_id="u", question_id="q", k=1,
                                profile_summary="P")
    assert [p["id"] for p in pairs] == ["u-q-0", "u-q-1", "u-q-2"]
    assert pairs[0]["prompt"] == "P\nGenerate a headline for the following article.\n article: apple pie headline:"
    assert pairs[1]["prompt"] == ("P\narticle: apple pie headline: A\n\nGenerate a headline for the following "
                                  "article.\n article: apple tart headline:")
    assert pairs[1]["completion"] == " B"
    tweets = user_training_pairs([{"text": "hi  there"}], "LaMP_7", style="oppu", user_id="u", question_id="q",
                                 k=2, profile_summary="P")
    assert tweets == [{"id": "u-q-0", "prompt": "tweet:", "completion": " hi there"}]


def test_pag_prompt_seeded_list_repr_and_cut():
    profile = [{"text": f"tweet {i} " + "w " * 300} for i in range(12)]
    got = profile_summary_prompt(profile, "LaMP_7", seed=5)
    assert got == profile_summary_prompt(profile, "LaMP_7", seed=5) != profile_summary_prompt(profile, "LaMP_7", seed=6)
    assert got.startswith("Given this person’s previous tweets, try to describe a template for their tweets.")
    items = re.findall(r"'tweet: tweet (\d+)((?: w)+)'", got)
    assert len(items) == 10 and all(len(ws.split()) == 198 for _, ws in items)  # 200 words incl. "tweet" and i
    small = profile_summary_prompt([{"text": "it's"}, {"text": "b"}], "LaMP_7", seed=0)
    assert small.endswith('User History: ["tweet: it\'s", \'tweet: b\'] Answer:')


# ---- per-user PEFT pairs and singular prompts -------------------------------------------------------------------
def test_peft_pairs():
    pairs = user_training_pairs([{"title": "T", "abstract": "A"}], "LaMP_1", user_id="u", question_id="9")
    assert pairs == [{"id": "u-9-0", "prompt": "Write an abstract for this title: T", "completion": "A"}]
    tweet = [{"text": " ".join(str(i) for i in range(20))}]
    one = user_training_pairs(tweet, "LaMP_7", user_id="u", question_id="q", seed=1)
    assert one == user_training_pairs(tweet, "LaMP_7", user_id="u", question_id="q", seed=1)
    cut = len(one[0]["prompt"].removeprefix("Complete the following tweet: ").split())
    assert 2 <= cut <= 5 and one[0]["completion"].split()[0] == str(cut)  # int(20 * u), 0.1 <= u <= 0.25
    mail = user_training_pairs([{"text": "body", "title": "S"}], "LaMP_6", user_id="u", question_id="q")
    assert mail[0]["prompt"] == "Generate a subject for the following email: body"
    single = user_training_pairs([{"id": "7", "text": "abcdef", "title": "H"}], "LaMP_4", style="singular",
                                 user_id="u", question_id="q", tokenizer=char_tokenizer(model_max_length=51))
    assert single == [{"id": "7", "prompt": "Generate a headline for the following article: abc", "completion": "H"}]


# ---- the Dataset face --------------------------------------------------------------------------------------------
def test_to_prompt_completion_checks_and_cache(chars, tmp_path):
    rows = [row(H4, [{"title": "T", "text": "t"}], ranking_bm25=[0]), {**row(H4, []), "output": None,
                                                                        "ranking_bm25": []}]
    ds = datasets.Dataset.from_list(rows)
    ds.save_to_disk(tmp_path / "d")
    ds = datasets.load_from_disk(tmp_path / "d")
    out = to_prompt_completion(ds, "LaMP_4", k=1, tokenizer=chars)
    assert out["prompt"] == ['"T" is the title for "t" . ' + H4, H4] and out["completion"] == ["gold", ""]
    again = to_prompt_completion(ds, "LaMP_4", k=1, tokenizer=chars)
    assert again._fingerprint == out._fingerprint and again.cache_files == out.cache_files
    assert to_prompt_completion(ds, "LaMP_4", k=1, tokenizer=chars, max_length=64)._fingerprint != out._fingerprint
    two = to_prompt_completion(ds, "LaMP_4", k=1, tokenizer=chars, max_length=300, num_proc=2)
    assert two["prompt"] == out["prompt"]
    for kwargs, message in [({"ranking": "ranking_contriever"}, "ranking_contriever"), ({"k": -1}, "k must"),
                            ({"style": "longlamp"}, "longlamp tasks"), ({"style": "nope"}, "unknown prompt style"),
                            ({"tokenizer": None}, "tokenizer"), ({"max_length": 0}, "token budget")]:
        with pytest.raises(LampkitError, match=message):
            to_prompt_completion(ds, "LaMP_4", **{"k": 1, "tokenizer": chars, **kwargs})
    with pytest.raises(LampkitError, match="no OPPU"):
        to_prompt_completion(ds, "LaMP_6", style="oppu")
    short = datasets.Dataset.from_list([row(H4, [{"title": "T", "text": "t"}] * 3, ranking_bm25=[0])])
    with pytest.raises(LampkitError, match="holds only 1 of its 3"):
        to_prompt_completion(short, "LaMP_4", k=2, tokenizer=chars)


def test_no_template_outside_the_registry():
    fragments = ["is the title for", "Following the given patterns", "User History", "is a summary for",
                 "Write an abstract for this title", "Complete the following tweet", "paper title:",
                 "Below are a list of review texts"]
    for path in (ROOT / "src" / "lampkit").rglob("*.py"):
        if path.name == "tasks.py":
            continue
        text = path.read_text()
        assert not [f for f in fragments if f in text], path


def test_cli_prompts_preview_write_and_errors(tmp_path, capsys):
    from lampkit.cli import main

    data, tok = tmp_path / "built", tmp_path / "tok"
    assert main(["build", "lamp", "--config", "LaMP_4_user", "--data-dir", str(ROOT / "samples" / "lamp"),
                 "--rankers", "bm25", "--out", str(data)]) == 0
    char_tokenizer().save_pretrained(tok)
    assert main(["prompts", str(data), "--config", "LaMP_4_user", "--k", "2", "--tokenizer", str(tok),
                 "--split", "test", "--out", str(tmp_path / "out")]) == 0
    lines = (tmp_path / "out" / "test.jsonl").read_text().splitlines()
    assert len(lines) == 3 and all('is the title for' in json.loads(line)["prompt"] for line in lines)
    capsys.readouterr()
    assert main(["prompts", str(data), "--config", "LaMP_4_user", "--k", "2", "--ranking", "ranking_minilm",
                 "--tokenizer", str(tok)]) == 2
    assert "ranking_minilm" in capsys.readouterr().err
    for extra, says in ((["--max-length", "0"], "field 'max_length': the token budget must be"),
                        (["--show", "-2"], "field '--show': must be 0 or more"),
                        (["--num-proc", "0"], "field '--num-proc': must be 1 or more")):
        assert main(["prompts", str(data), "--config", "LaMP_4_user", "--tokenizer", str(tok), *extra]) == 2
        assert says in capsys.readouterr().err
    assert main(["prompts", str(data), "--config", "LaMP_4_user", "--tokenizer", str(tmp_path / "none")]) == 2
    assert "field '--tokenizer'" in capsys.readouterr().err
    # --out is replaced whole: an earlier run's folder is, a folder holding the data or other work is not
    assert main(["prompts", str(data), "--config", "LaMP_4_user", "--tokenizer", str(tok), "--split", "train",
                 "--out", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["train.jsonl"]
    box = tmp_path / "box"
    box.mkdir()
    (box / "notes.txt").write_text("mine")
    for out, says in ((tmp_path, "holds the input DATA"), (box, "holds notes.txt, which this command does not")):
        before = sorted(p.name for p in out.iterdir())
        assert main(["prompts", str(data), "--config", "LaMP_4_user", "--tokenizer", str(tok), "--out",
                     str(out)]) == 2
        assert says in capsys.readouterr().err
        assert sorted(p.name for p in out.iterdir()) == before
