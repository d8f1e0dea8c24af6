"""Regenerate ``samples/planted/``: a planted-preference LaMP-3 (product rating) sample in the official raw format.

Every user has a rating habit: whatever the product, they give one fixed score (``HABITS``). The review texts are
drawn from one pool shared by all users and say nothing about the score, so a model that sees only the task data
(the question and nothing of the user) cannot do better than one guess for everyone; a model that learned a user's
history predicts that user's score exactly. This is what per-user adapters (OPPU, LaMP's per-user PEFT) must
show: the right adapter on the right user wins by a clear margin, another user's adapter loses it.

Time split only (``time/LaMP_3/{train,dev,test}``, questions carry ``user_id``), as the builder reads it:
``lampkit build lamp --config LaMP_3_time --data-dir samples/planted --out OUT``. A user's history grows from
train to dev to test; their questions in one split share one profile, as in the real time split.

Usage: ``python samples/make_planted_sample.py [OUT_DIR]`` (default: ``samples/planted`` next to this script).
Standard library only, apart from lampkit's registry (plain data) for the input template and paths.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from lampkit.tasks import get_task
from lampkit.tasks import lamp_raw_path

SEED = 20261202
TASK = get_task("LaMP_3")
#: One fixed score per user: their habit. Neighbours differ, so a shifted assignment of adapters is always wrong.
HABITS = (1, 5, 2, 4, 1, 5, 2, 4)
USERS = tuple(str(710000 + 37 * i) for i in range(len(HABITS)))
#: Profile items per user at the train split; each later split adds ``GROWTH`` newer items.
HISTORY, GROWTH = 10, 2
QUESTIONS_PER_SPLIT = 2
SPLITS = ("train", "dev", "test")

PRODUCTS = ["desk lamp", "water bottle", "phone case", "backpack", "kettle", "notebook", "umbrella", "headphones",
            "toaster", "yoga mat", "bike light", "coffee mug", "shower curtain", "laptop stand", "rain jacket"]
USES = ["for work", "as a gift", "for travel", "for the kitchen", "for my daughter", "for the office",
        "for weekend trips", "to replace an old one"]
FACTS = ["It comes in a grey box.", "The colour is as shown in the photos.", "It arrived on a Tuesday.",
         "It weighs about what I expected.", "The manual is two pages long.", "It has a small logo on the side.",
         "Delivery took four days.", "It fits on the shelf next to the others."]


def review(rng: random.Random) -> str:
    return f"I bought this {rng.choice(PRODUCTS)} {rng.choice(USES)}. {rng.choice(FACTS)} {rng.choice(FACTS)}"


def build(out: Path) -> None:
    rng = random.Random(SEED)
    histories = {user: [] for user in USERS}
    qid = 7300
    for s, split in enumerate(SPLITS):
        questions, golds = [], []
        for u, (user, habit) in enumerate(zip(USERS, HABITS)):
            new = HISTORY if s == 0 else GROWTH
            for _ in range(new):
                n = len(histories[user])
                histories[user].append({"id": f"{user}{n:03d}", "text": review(rng), "score": str(habit),
                                        "date": f"{2012 + n // 4}-{1 + 3 * (n % 4):02d}-{1 + u:02d}"})
            for _ in range(QUESTIONS_PER_SPLIT):
                questions.append({"id": str(qid), "input": TASK.input_template.format(text=review(rng)),
                                  "profile": [dict(item) for item in histories[user]], "user_id": user})
                golds.append({"id": str(qid), "output": str(habit)})
                qid += 1
        write(out / lamp_raw_path(TASK, "time", split, "questions"), questions)
        if split != "test":
            write(out / lamp_raw_path(TASK, "time", split, "outputs"), {"task": "LaMP_3", "golds": golds})


def write(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("planted"))
