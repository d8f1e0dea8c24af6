"""Regenerate ``samples/longlamp/``: a small synthetic copy of the Hub dataset repo ``LongLaMP/LongLaMP`` plus the
email id files of LongLaMP's email-completion task.

Hub part (six configs): ``<config>/<split>-NNNNN-of-NNNNN.parquet`` with splits ``train``/``val``/``test`` (the
names ``push_to_hub`` gives config shards), a ``README.md`` whose YAML ``configs:`` maps them as on the Hub, and the
upstream columns: ``name``/``reviewerId``/``author``, ``input``, ``output``, ``profile`` (docs/longlamp.md says
which details are confirmed). Email part: ``email_generation_<kind>/{train,dev,test}_questions.json``, the input
format of LongLaMP's ``data/avocado/create_avocado_dataset.py`` (Avocado basenames plus ``content_length``),
referring to the emails of ``samples/avocado`` (``make_avocado_sample.py``). No text comes from the benchmark:
it is composed from the hand-written building blocks below with a fixed seed, so two runs write identical bytes
(given the same pyarrow).

Usage: ``python samples/make_longlamp_sample.py [OUT_DIR]`` (default: ``samples/longlamp`` next to this script).
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import sys
from pathlib import Path

import pyarrow
import pyarrow.parquet

SEED = 20240715
HERE = Path(__file__).resolve().parent
SPLITS = ("train", "val", "test")
#: Users per split in the user split (disjoint across splits); the temporal split has TEMPORAL_USERS users who
#: each appear in every split, with one more history item per split.
USER_SPLIT_USERS = {"train": 4, "val": 2, "test": 2}
TEMPORAL_USERS = 3
#: Shards per (config, split): one everywhere except here, so readers must concatenate shards in name order.
SHARDS = {("abstract_generation_user", "train"): 2}

# ---------------------------------------------------------------------------------------------------------
# Abstract generation (scholars: name, input, output, profile[{id, title, abstract, year}]).
SCHOLARS = ["Maria Lopez", "Chen Wei", "Aisha Bello", "Jonas Lindqvist", "Priya Raghavan", "Tomás Ferreira",
            "Yuki Tanaka", "Olga Petrova", "Samuel Osei", "Léa Dubois", "Kwame Mensah"]
AREAS = {
    "retrieval": dict(problems=["passage ranking", "query expansion", "conversational search", "dense retrieval"],
                      methods=["contrastive pre-training", "learned sparse representations", "pseudo-relevance "
                               "feedback", "late interaction"],
                      data=["MS MARCO", "TREC Deep Learning", "a web search log", "BEIR"]),
    "vision": dict(problems=["semantic segmentation", "object tracking", "direction-of-arrival (DOA) estimation",
                            "image retrieval"],
                   methods=["vision transformers", "self-supervised distillation", "multi-scale attention",
                            "graph matching"],
                   data=["Cityscapes", "COCO", "a drone footage corpus", "ImageNet"]),
    "systems": dict(problems=["tail latency", "cache eviction", "query scheduling", "log compaction"],
                    methods=["learned cost models", "lock-free queues", "adaptive batching", "tiered storage"],
                    data=["production traces", "TPC-H", "a key-value workload", "YCSB"]),
}
ABSTRACT_OPENERS = {  # the scholar's habit: how the first sentence starts
    "formal": "In this paper, we study {problem} under realistic constraints.",
    "direct": "{Problem} is central to many applications, yet current solutions remain brittle.",
    "question": "Can {problem} be solved reliably without large labelled datasets?",
}
ABSTRACT_BODY = [  # one sentence from each group, in this order: gap, method, analysis, results, closing
    ["Existing approaches rely on hand-tuned heuristics that degrade when the input distribution shifts.",
     "Prior work typically assumes clean inputs, an assumption that rarely holds in deployed systems.",
     "Most methods treat each instance independently and ignore the structure shared across related inputs."],
    ["We propose a framework based on {method} that is simple to implement and cheap to train.",
     "Our approach combines {method} with a lightweight calibration step that requires no extra supervision.",
     "We introduce a variant of {method} that adapts its capacity to the difficulty of each input."],
    ["A theoretical analysis shows that the method converges under mild assumptions.",
     "We further describe an efficient implementation that scales to millions of items on a single machine.",
     "We also show how the same idea applies when only a few labelled examples are available."],
    ["Experiments on {data} show consistent improvements of {pct}% over strong baselines.",
     "On {data}, the proposed method reduces error by {pct}% while halving the computational cost.",
     "Results on {data} confirm the benefit, with a {pct}% relative gain and no loss in robustness."],
    ["Ablation studies confirm that each component contributes to the final performance.",
     "We release our code and trained models to support future research.",
     "An error analysis highlights the cases where the method still struggles."],
]
TITLES = ["{Method} for {problem}", "Towards robust {problem} with {method}", "Revisiting {method}: lessons from "
          "{problem}", "Efficient {problem} via {method}", "When does {method} help {problem}?",
          "Scaling {method} to {problem} in the wild"]

# ---------------------------------------------------------------------------------------------------------
# Product reviews (reviewers: reviewerId, input, output, profile[{overall, summary, description, reviewText}]).
PRODUCTS = [
    ("stainless steel French press, 34 oz", "Double-wall stainless steel French press that keeps coffee hot for an "
     "hour. Includes a four-level filtration system and a dishwasher-safe carafe.", "coffee"),
    ("wireless ergonomic mouse", "Vertical wireless mouse with a 2.4 GHz receiver, six buttons and adjustable DPI. "
     "Designed to reduce wrist strain during long working sessions.", "clicks"),
    ("cast iron skillet, 12 inch", "Pre-seasoned 12-inch cast iron skillet suitable for stovetop, oven and "
     "campfire cooking. Heavy-duty construction with a helper handle.", "sear"),
    ("noise cancelling headphones", "Over-ear Bluetooth headphones with active noise cancellation, 30-hour "
     "battery life and a foldable design with a hard travel case.", "sound"),
    ("yoga mat, 6 mm", "Non-slip 6 mm yoga mat made of TPE foam, with alignment lines and a carrying strap. "
     "Free of latex and PVC.", "grip"),
    ("paperback: The Lighthouse Keeper's Daughter", "A sweeping family saga set on the Cornish coast, following "
     "three generations of women and the secret that binds them.", "story"),
    ("LED desk lamp with USB port", "Dimmable LED desk lamp with five color temperatures, a memory function and "
     "a USB charging port in the base.", "light"),
    ("trail running shoes", "Lightweight trail running shoes with a rock plate, aggressive lugs and a "
     "breathable mesh upper. 6 mm drop.", "fit"),
    ("digital kitchen scale", "Slim digital kitchen scale that weighs up to 5 kg in 1 g steps, with a tare button "
     "and a backlit display.", "accuracy"),
    ("board game: Harbor Lights", "A cooperative strategy game for 2-5 players about guiding ships into port "
     "before the storm hits. Plays in 45 minutes.", "replay value"),
]
REVIEW_VOICES = {  # how a reviewer opens, and closes by sentiment
    "enthusiast": dict(open=["I have been using this {product} for about {weeks} weeks now.",
                             "Wow. I had been looking at this {product} for months!"],
                       good=["Highly recommended!", "Would buy again in a heartbeat!"],
                       mixed=["Still happy overall!"], bad=["So sad, I really wanted to love it!"]),
    "analyst": dict(open=["Bought the {product} to replace an older model; notes after {weeks} weeks of daily use.",
                          "Short version first, details below, for the {product}."],
                    good=["Pros: build quality, price. Cons: none worth mentioning.", "A fair deal for the money."],
                    mixed=["Pros and cons roughly balance out; buy it on sale."],
                    bad=["Pros: packaging. Cons: everything else."]),
    "grumbler": dict(open=["I did not expect much from this {product}.", "Here is my honest take on this "
                           "{product} after {weeks} weeks."],
                     good=["Fine, it earned its stars."], mixed=["Could be worse, could be a lot better."],
                     bad=["Returning it.", "Cannot recommend at this price."]),
}
REVIEW_BODY = {
    "good": ["The {aspect} is excellent and noticeably better than what I had before.",
             "Setup took less than five minutes and nothing was missing from the box.",
             "It feels solid and well made, with no rattles or sharp edges.",
             "My partner, who is picky about these things, has started using it every day.",
             "After several weeks there is no visible wear at all."],
    "bad": ["The {aspect} was disappointing from day one.",
            "One part arrived scratched and customer service took a week to answer.",
            "The instructions are vague and I had to look up a video to figure it out.",
            "It started to show wear after only a couple of weeks.",
            "For the price I expected a lot more attention to detail."],
}
SUMMARIES = {5.0: ["Exactly what I needed", "Fantastic value", "Love it"],
             4.0: ["Very good, minor quibbles", "Solid purchase", "Does the job well"],
             3.0: ["It's okay", "Average at best", "Good and bad"],
             2.0: ["Not great", "Expected better", "Meh"],
             1.0: ["Broke quickly", "Waste of money", "Do not buy"]}

# ---------------------------------------------------------------------------------------------------------
# Topic writing (reddit authors: author, input, output, profile[{id, author, summary, content}]).
AUTHORS = ["throwaway_runner88", "quietbaker", "TheGardenGnome_", "pixel_pusher42", "old_sea_dog", "mapsandmugs",
           "night_owl_nurse", "LegoArchitect", "frugal_fran", "dadjokes4days", "cello_and_coffee"]
TOPICS = [
    ("my first marathon and what went wrong at mile 20",
     ["Training went great for sixteen weeks and I hit every long run.", "On race day I went out far too fast "
      "because the crowd was so loud.", "By mile 20 my legs simply stopped listening and I walked most of the "
      "last six miles.", "I still finished, which I am proud of, but I learned a lot about pacing."]),
    ("how I finally fixed my sourdough starter",
     ["For weeks my starter smelled like nail polish and never doubled.", "Someone here suggested switching "
      "to rye flour and feeding it twice a day.", "Within five days it was bubbly and predictable.", "My first "
      "loaf since then actually had an open crumb."]),
    ("tips for keeping tomatoes alive in a heatwave",
     ["Our garden hit 40 degrees three days in a row last month.", "Shade cloth over the afternoon sun made the "
      "biggest difference.", "Deep watering early in the morning beat frequent shallow watering.", "I lost a "
      "few flowers but the plants recovered within a week."]),
    ("asking for advice on switching careers into UX design",
     ["I have worked in accounting for eight years and I am burned out.", "I have been taking an online course "
      "and building a small portfolio at night.", "I am worried that my age and background will count "
      "against me.", "Has anyone here made a similar switch, and how long did it take?"]),
    ("the night shift and what it does to your sleep",
     ["After three years of nights my sleep is a mess.", "Blackout curtains and a strict wind-down routine "
      "helped more than any supplement.", "I also stopped drinking coffee after 3 a.m.", "It is not perfect "
      "but I finally wake up feeling like a person."]),
    ("building a Lego model of my childhood home",
     ["I spent two months recreating the house I grew up in.", "The hardest part was the curved bay window, "
      "which took six attempts.", "I ordered most parts individually to get the right colors.", "My mum cried "
      "when I showed her, so it was worth every brick."]),
    ("how we paid off our debt in two years",
     ["We had about 30k in credit card and car debt.", "We tracked every expense in a spreadsheet and cut "
      "eating out almost completely.", "Every bonus and tax refund went straight to the smallest balance.",
      "The day we paid the last card felt better than any vacation."]),
    ("learning the cello as an adult beginner",
     ["I started at 41 with zero musical background.", "The first six months sounded like a wounded animal, "
      "according to my kids.", "A patient teacher and fifteen minutes of daily practice changed everything.",
      "Last week I played a simple Bach minuet all the way through."]),
]
TOPIC_OPENERS = {"chatty": "Long time lurker, first post here.", "blunt": "Quick one.",
                 "storyteller": "So this is a bit of a story, bear with me."}
TOPIC_CLOSERS = {"chatty": "Thanks for reading this far, you are all great!", "blunt": "That's it.",
                 "storyteller": "Anyway, that is how it happened. Happy to answer questions."}

# ---------------------------------------------------------------------------------------------------------
# Email completion: questions over the samples/avocado emails (custodian, item); targets 4-6 have long bodies.
EMAIL_CUSTODIANS = ("001", "002", "003", "004")
EMAIL_USER_SPLIT = {"train": ("001", "002"), "dev": ("003",), "test": ("004",)}
EMAIL_TEMPORAL_TARGETS = {"train": 4, "dev": 5, "test": 6}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _tokenized(text: str) -> str:
    """Text as the real profile abstracts have it: lowercased, punctuation split off (``direction - of - arrival
    ( doa )``)."""
    return " ".join(re.sub(r"([-(),.;:%!?])", r" \1 ", text.lower()).split())


def _hex_id(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(24))


def _paper(rng: random.Random, persona: dict) -> dict:
    area = AREAS[persona["area"]]
    slots = {"problem": rng.choice(area["problems"]), "method": rng.choice(area["methods"])}
    title = rng.choice(TITLES).format(Method=_cap(slots["method"]), Problem=_cap(slots["problem"]), **slots)
    body = [rng.choice(group) for group in ABSTRACT_BODY if rng.random() < 0.85]
    sentences = [ABSTRACT_OPENERS[persona["style"]]] + body + [persona["signature"]]
    abstract = " ".join(s.format(Problem=_cap(slots["problem"]), data=rng.choice(area["data"]),
                                 pct=rng.randint(3, 27), **slots) for s in sentences)
    keywords = [slots["method"], slots["problem"], rng.choice(area["data"])]
    return {"title": title, "abstract": abstract, "keywords": keywords}


def _review(rng: random.Random, persona: dict) -> dict:
    product, description, aspect = rng.choice(PRODUCTS)
    overall = rng.choice(persona["ratings"])
    voice = REVIEW_VOICES[persona["voice"]]
    mood = "good" if overall >= 4.0 else "bad" if overall <= 2.0 else "mixed"
    if mood == "mixed":
        body = rng.sample(REVIEW_BODY["good"], 2) + rng.sample(REVIEW_BODY["bad"], 2)
    else:
        body = rng.sample(REVIEW_BODY[mood], 3)
    text = " ".join([rng.choice(voice["open"])] + body + [rng.choice(voice[mood])])
    return {"overall": overall, "summary": rng.choice(SUMMARIES[overall]), "description": description,
            "reviewText": text.format(product=product, aspect=aspect, weeks=rng.randint(2, 12))}


def _post(rng: random.Random, persona: dict, topic: tuple[str, list[str]]) -> dict:
    summary, sentences = topic
    content = " ".join([TOPIC_OPENERS[persona["tone"]]] + sentences + [TOPIC_CLOSERS[persona["tone"]]])
    return {"summary": summary, "content": content}


def _personas(task: str, rng: random.Random, count: int) -> list[dict]:
    if task == "abstract_generation":
        return [{"user": name, "area": rng.choice(sorted(AREAS)), "style": rng.choice(sorted(ABSTRACT_OPENERS)),
                 "signature": rng.choice(["These findings open several directions for future work.",
                                          "Our results suggest a simple recipe for practitioners.",
                                          "We discuss limitations and societal implications."])}
                for name in rng.sample(SCHOLARS, count)]
    if task == "product_review":
        return [{"user": "A" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(13)),
                 "voice": rng.choice(sorted(REVIEW_VOICES)),
                 "ratings": rng.choice([[5.0, 5.0, 4.0], [4.0, 3.0, 5.0], [2.0, 1.0, 3.0, 4.0]])}
                for _ in range(count)]
    return [{"user": name, "tone": rng.choice(sorted(TOPIC_OPENERS))} for name in rng.sample(AUTHORS, count)]


def _history(task: str, rng: random.Random, persona: dict, size: int) -> list[dict]:
    """``size`` items of one user's history, oldest first (each item is ``(item, target-only extras)``)."""
    if task == "abstract_generation":
        year = rng.randint(2006, 2011)
        items = []
        for _ in range(size):
            paper = _paper(rng, persona)
            year += rng.randint(0, 2)
            items.append({"id": _hex_id(rng), "title": paper["title"], "abstract": paper["abstract"], "year": year,
                          "keywords": paper["keywords"]})
        return items
    if task == "product_review":
        return [_review(rng, persona) for _ in range(size)]
    return [{"id": "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(6)),
             "author": persona["user"], **_post(rng, persona, topic)} for topic in rng.sample(TOPICS, size)]


def _row(task: str, persona: dict, target: dict, profile: list[dict]) -> dict:
    """One upstream row: the user column, the templated input, the output and the profile (upstream fields)."""
    if task == "abstract_generation":
        items = "\n".join(f"{i}. {kw}" for i, kw in enumerate(target["keywords"], 1))  # numbered, one per line
        return {"name": persona["user"],
                "input": f'Generate an abstract for the title "{target["title"]}" using the following items:\n'
                         f"{items}",
                "output": target["abstract"],
                "profile": [{"id": item["id"], "title": item["title"], "abstract": _tokenized(item["abstract"]),
                             "year": item["year"]} for item in profile]}
    if task == "product_review":
        return {"reviewerId": persona["user"],
                "input": f"Generate the review text written by a reviewer who has given an overall rating of "
                         f"{target['overall']} for a product with description {target['description']}. The summary "
                         f"of the review text is {target['summary']}.",
                "output": target["reviewText"], "profile": profile}
    return {"author": persona["user"], "input": f"Generate the content for a reddit post {target['summary']}",
            "output": target["content"], "profile": profile}


def _user_split(task: str, rng: random.Random) -> dict[str, list[dict]]:
    people = _personas(task, rng, sum(USER_SPLIT_USERS.values()))
    rows: dict[str, list[dict]] = {}
    for split in SPLITS:
        rows[split] = []
        for _ in range(USER_SPLIT_USERS[split]):
            persona = people.pop(0)
            history = _history(task, rng, persona, rng.randint(3, 7))
            rows[split].append(_row(task, persona, history[-1], history[:-1]))
    return rows


def _temporal_split(task: str, rng: random.Random) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {split: [] for split in SPLITS}
    for persona in _personas(task, rng, TEMPORAL_USERS):
        history = _history(task, rng, persona, rng.randint(3, 5) + len(SPLITS))
        first_target = len(history) - len(SPLITS)
        for offset, split in enumerate(SPLITS):
            target = first_target + offset  # train < val < test in time; the profile is everything before
            rows[split].append(_row(task, persona, history[target], history[:target]))
    return rows


def _null_fields(config: str, splits: dict[str, list[dict]]) -> None:
    """Real data has a null or empty text field here and there: a null review summary and an empty post (never in
    a split's first row)."""
    if config == "product_review_user":
        splits["train"][1]["profile"][1] = dict(splits["train"][1]["profile"][1], summary=None)
    elif config == "topic_writing_temporal":
        splits["val"][1]["profile"][0] = dict(splits["val"][1]["profile"][0], content="")


def _schema(task: str) -> pyarrow.Schema:
    string, item = pyarrow.string(), {
        "abstract_generation": [("id", pyarrow.string()), ("title", pyarrow.string()),
                                ("abstract", pyarrow.string()), ("year", pyarrow.int64())],
        "product_review": [("overall", pyarrow.float64()), ("summary", pyarrow.string()),
                           ("description", pyarrow.string()), ("reviewText", pyarrow.string())],
        "topic_writing": [("id", pyarrow.string()), ("author", pyarrow.string()), ("summary", pyarrow.string()),
                          ("content", pyarrow.string())],
    }[task]
    user = {"abstract_generation": "name", "product_review": "reviewerId", "topic_writing": "author"}[task]
    return pyarrow.schema([(user, string), ("input", string), ("output", string),
                           ("profile", pyarrow.list_(pyarrow.struct(item)))])


def _write_parquet(folder: Path, split: str, rows: list[dict], schema: pyarrow.Schema, shards: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    per = -(-len(rows) // shards)
    paths = []
    for i in range(shards):
        path = folder / f"{split}-{i:05d}-of-{shards:05d}.parquet"
        table = pyarrow.Table.from_pylist(rows[i * per:(i + 1) * per], schema=schema)
        pyarrow.parquet.write_table(table, path, compression="zstd")
        paths.append(path)
    return paths


def _card(configs: list[str]) -> str:
    yaml = "\n".join(f"- config_name: {name}\n  data_files:\n"
                     + "".join(f"  - split: {split}\n    path: {name}/{split}-*\n" for split in SPLITS).rstrip("\n")
                     for name in configs)
    return (f"---\nconfigs:\n{yaml}\n---\n\n# LongLaMP (synthetic sample)\n\n"
            "A tiny synthetic stand-in for the Hub dataset repo `LongLaMP/LongLaMP`, in its layout: "
            "`<config>/<split>-NNNNN-of-NNNNN.parquet` with splits `train`, `val` and `test`. No text comes from "
            "the benchmark; `samples/make_longlamp_sample.py` writes it.\n\n"
            "The `email_generation_<kind>/` folders are **not** part of the Hub repo: they hold email id files in "
            "the input format of LongLaMP's `data/avocado/create_avocado_dataset.py`, referring to the synthetic "
            "emails in `samples/avocado`. See `docs/longlamp.md`.\n")


def _avocado_sample():
    spec = importlib.util.spec_from_file_location("make_avocado_sample", HERE / "make_avocado_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _email_item(custodian: str, number: int) -> dict:
    avocado = _avocado_sample()
    y, m, d, *_ = next(date for c, n, date, *_ in avocado.EMAILS if (c, n) == (custodian, number))
    return {"id": f"8{custodian}{number:03d}", "text": avocado.basename(custodian, number),
            "date": f"{y:04d}-{m:02d}-{d:02d}"}


def _email_question(qid: str, custodian: str, target: int, content_length: int, user_id: str | None) -> dict:
    question = {"id": qid, "input": _avocado_sample().basename(custodian, target),
                "profile": [_email_item(custodian, n) for n in range(1, target)], "content_length": content_length}
    if user_id is not None:
        question["user_id"] = user_id
    return question


def email_questions() -> dict[str, list[dict]]:
    """The email id files, keyed by their path below ``samples/longlamp``. ``content_length`` (the number of body
    words given in the input) varies, including 0 (the whole body is the output) and more words than the body has
    (the output is empty)."""
    lengths = iter([12, 5, 0, 9, 7, 300, 10, 4, 6, 15, 8, 3])
    files = {}
    for split, custodians in EMAIL_USER_SPLIT.items():
        files[f"email_generation_user/{split}_questions.json"] = [
            _email_question(f"9{split[0]}{i}", c, 6, next(lengths), None) for i, c in enumerate(custodians)]
    for split, target in EMAIL_TEMPORAL_TARGETS.items():
        files[f"email_generation_temporal/{split}_questions.json"] = [
            _email_question(f"99{split[0]}{i}", c, target, next(lengths), f"8{c}")
            for i, c in enumerate(EMAIL_CUSTODIANS[:2])]
    return files


def write_sample(out_dir: Path) -> list[Path]:
    """Write the whole sample below ``out_dir``; returns the files written."""
    rng = random.Random(SEED)
    written = []
    configs = []
    for task in ("abstract_generation", "product_review", "topic_writing"):
        for kind, make in (("user", _user_split), ("temporal", _temporal_split)):
            config = f"{task}_{kind}"
            configs.append(config)
            splits = make(task, rng)
            _null_fields(config, splits)
            for split, rows in splits.items():
                written += _write_parquet(out_dir / config, split, rows, _schema(task),
                                          SHARDS.get((config, split), 1))
    (out_dir / "README.md").write_text(_card(configs), encoding="utf-8")
    written.append(out_dir / "README.md")
    for rel, questions in email_questions().items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(questions), encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "longlamp"
    for path in write_sample(out):
        print(path)


if __name__ == "__main__":
    main()
