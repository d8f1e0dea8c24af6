"""Regenerate ``samples/lamp/``: a small synthetic mirror of the official LaMP download tree.

Every task except LaMP-6 (its sample ships with the Avocado emails), both split kinds, in the raw formats and
at the relative paths of the download server (``lampkit.tasks.lamp_raw_path``). The text is composed from the
hand-written building blocks below with a fixed seed, so two runs write identical bytes.

Usage: ``python samples/make_lamp_sample.py [OUT_DIR]`` (default: ``samples/lamp`` next to this script).
Standard library only, apart from lampkit's own task registry (plain data) for labels and paths.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

from lampkit.tasks import MOVIE_TAGS
from lampkit.tasks import NEWS_CATEGORIES
from lampkit.tasks import get_task
from lampkit.tasks import lamp_raw_path

SEED = 20240607
TASK_NAMES = ("LaMP_1", "LaMP_2", "LaMP_2N", "LaMP_3", "LaMP_4", "LaMP_5", "LaMP_7")
TEMPLATES = {name: get_task(name).input_template for name in TASK_NAMES}
#: Digit that starts every id of a task (LaMP-2N reuses 2 with a different second digit).
ID_PREFIX = {"LaMP_1": "1", "LaMP_2": "2", "LaMP_2N": "29", "LaMP_3": "3", "LaMP_4": "4", "LaMP_5": "5",
             "LaMP_7": "7"}
SPLITS = ("train", "dev", "test")
USER_SPLIT_SIZES = {"train": 4, "dev": 3, "test": 3}

# ---------------------------------------------------------------------------------------------------------
# Shared fillers (a few with accents, CJK and emoji so that encodings get exercised).
PEOPLE = ["Maria Lopez", "José Álvarez", "Chen Wei", "Aisha Bello", "Tom Becker", "Zoë Müller", "Priya Nair",
          "Kenji Watanabe", "Olga Petrova", "Samuel Osei", "Léa Dubois", "佐藤 花子"]
CITIES = ["Boston", "São Paulo", "Lagos", "Toronto", "Kraków", "Austin", "東京", "Melbourne", "Nairobi", "Zürich",
          "Denver", "Lyon"]
ORGS = ["the city council", "a regional hospital", "a local startup", "the state university", "a national bank",
        "the school board", "a community nonprofit", "the transit authority"]
EMOJI = ["😂", "🙌", "☕", "🎉", "😴", "🔥", "💯", "🙃"]

# ---------------------------------------------------------------------------------------------------------
# Papers (LaMP-1 and LaMP-5): each research area has its own vocabulary; a user writes in one or two areas.
AREAS = {
    "ir": dict(methods=["learning to rank", "dense retrieval", "query expansion", "click models",
                        "neural re-ranking", "pseudo-relevance feedback"],
               problems=["ad hoc retrieval", "query auto-completion", "conversational search",
                         "expert finding", "personalized search"],
               domains=["web search logs", "e-commerce catalogs", "scientific literature", "enterprise intranets"],
               data=["TREC collections", "query logs", "product search sessions"]),
    "nlp": dict(methods=["transformer encoders", "sequence-to-sequence models", "contrastive pre-training",
                         "syntactic parsing", "prompt tuning", "cross-lingual embeddings"],
                problems=["named entity recognition", "abstractive summarization", "machine translation",
                          "sentiment analysis", "question answering"],
                domains=["low-resource languages", "clinical notes", "social media posts", "legal contracts",
                         "Chinese microblogs (微博)"],
                data=["benchmark corpora", "annotated news articles", "parallel corpora"]),
    "vision": dict(methods=["convolutional networks", "vision transformers", "self-supervised learning",
                            "graph matching", "diffusion models"],
                   problems=["object detection", "semantic segmentation", "image retrieval", "pose estimation",
                             "visual question answering"],
                   domains=["aerial imagery", "medical scans", "autonomous driving", "retail shelves"],
                   data=["image benchmarks", "video datasets", "labelled photographs"]),
    "db": dict(methods=["cost-based optimization", "learned indexes", "adaptive sampling", "incremental view maintenance",
                        "columnar compression"],
               problems=["query optimization", "approximate query processing", "entity resolution",
                         "data cleaning", "stream processing"],
               domains=["distributed warehouses", "time-series stores", "graph databases", "data lakes"],
               data=["TPC-H workloads", "production query traces", "synthetic tables"]),
    "bio": dict(methods=["hidden Markov models", "Bayesian inference", "graph neural networks", "sequence alignment",
                         "random forests"],
                problems=["protein function prediction", "gene expression analysis", "variant calling",
                          "drug–target interaction prediction"],
                domains=["single-cell data", "microbial genomes", "clinical cohorts", "plant genomes"],
                data=["public sequencing data", "curated protein databases", "patient records"]),
}
TITLE_PATTERNS = [
    "{Method} for {problem} in {domain}",
    "Towards robust {problem} with {method}",
    "On the effectiveness of {method} for {problem}",
    "A study of {problem} on {domain}",
    "Efficient {problem} via {method}",
    "Revisiting {method}: lessons from {problem}",
    "Scaling {method} to {domain}",
]
ABSTRACT_SENTENCES = [
    ["We study the problem of {problem} in {domain}.", "This paper addresses {problem} for {domain}.",
     "{Problem} in {domain} remains a challenging task."],
    ["Existing approaches rely on hand-crafted features and do not scale to large collections.",
     "Prior work assumes clean inputs, an assumption rarely met in practice.",
     "Most existing methods ignore the structure shared across related instances."],
    ["We propose an approach based on {method} that is simple to implement and fast to train.",
     "We introduce a framework built on {method} that adapts to the characteristics of each input.",
     "Our method combines {method} with a lightweight calibration step."],
    ["Experiments on {data} show improvements of {pct}% over strong baselines.",
     "An evaluation on {data} demonstrates consistent gains of up to {pct}%.",
     "Results on three {data} confirm the benefit, with a {pct}% relative improvement."],
]

# ---------------------------------------------------------------------------------------------------------
# Movies (LaMP-2): per tag, plot sentences in the style of MovieLens descriptions.
MOVIE_PLOTS = {
    "sci-fi": ["A crew of miners on a distant moon discovers a signal that predates humanity.",
               "An engineer in {city} builds a machine that lets her speak with her future self."],
    "based on a book": ["Adapted from the beloved novel, the story follows an orphan who inherits a crumbling estate.",
                        "A faithful adaptation of the bestseller about two sisters growing up during the war."],
    "comedy": ["Two rival wedding planners are forced to organize the same chaotic ceremony in {city}.",
               "A hapless substitute teacher pretends to be a chess champion to impress his students."],
    "action": ["A retired bodyguard must escort a witness across {city} while hired killers close in.",
               "When terrorists seize a cargo ship, a mechanic on board becomes the only hope."],
    "twist ending": ["A detective interviews the lone survivor of a fire, but nothing about her story adds up.",
                     "A man wakes up in a motel with no memory and a note in his own handwriting."],
    "dystopia": ["In a future where memories are taxed, a clerk starts smuggling forgotten childhoods.",
                 "A girl in a walled city learns that the lottery deciding everyone's job is rigged."],
    "dark comedy": ["A funeral director in a sleepy town starts arranging deaths to keep the business alive.",
                    "Three siblings fight over their father's will, which he keeps rewriting from his hospital bed."],
    "classic": ["A small-town lawyer defends a man no one else will represent in this timeless courtroom drama.",
                "A drifter arrives in a frontier town and stands up to the cattle baron who runs it."],
    "psychology": ["A therapist becomes obsessed with a patient who claims to be living someone else's life.",
                   "A pianist preparing for a competition slowly loses her grip on what is real."],
    "fantasy": ["A young blacksmith forges a sword that can cut through time and must hide it from the king.",
                "A girl follows a talking fox into a kingdom where winter has lasted a hundred years."],
    "romance": ["Two strangers keep meeting on the night train from {city} and fall in love over a year of rides.",
                "A florist and a grumpy architect are forced to share a tiny shop during a rainy summer."],
    "thought-provoking": ["An artificial intelligence asks its creator whether it is allowed to refuse an order.",
                          "A village votes on whether to let an old man end his life on his own terms."],
    "social commentary": ["A delivery driver documents a week of work in the gig economy of {city}.",
                          "A reality show about luxury homes turns into an exposé of the cleaners who run them."],
    "violence": ["A gang war erupts in the port district after a shipment of weapons goes missing.",
                 "A farmer takes brutal revenge on the outlaws who burned his land."],
    "true story": ["The remarkable true story of {person}, a nurse who smuggled children out of an occupied city.",
                   "Based on real events, a team of engineers races to rescue miners trapped underground."],
}
MOVIE_EXTRAS = ["", " The film was shot on location in {city}.", " {person} stars in the lead role.",
                " A quiet, patient film that rewards repeat viewing.", " Nominated for several festival awards."]

# ---------------------------------------------------------------------------------------------------------
# News (LaMP-2N and LaMP-4): per category, (headline, article) templates.
NEWS = {
    "travel": [("The Best Weekend Getaways Near {city}",
                "Looking for a short escape? Travelers from {city} can reach quiet beaches, mountain cabins and "
                "wine country in under three hours. We asked locals for their favorite spots."),
               ("Airlines Add {n} New Routes For Summer",
                "Carriers announced {n} new nonstop routes this week, many of them to smaller cities that had "
                "lost service. Fares on the new routes start low but are expected to rise.")],
    "education": [("Teachers In {city} Push For Smaller Classes",
                   "Hundreds of teachers rallied outside {org} on Tuesday, saying classes of more than {n} students "
                   "make it impossible to give children individual attention."),
                  ("What One School Learned From Ditching Homework",
                   "A middle school in {city} stopped assigning homework two years ago. Test scores held steady, "
                   "and the principal says students are sleeping more.")],
    "parents": [("The Bedtime Routine That Finally Worked For Us",
                 "After months of tears, {person} tried a simple routine with her toddler: bath, two books, one "
                 "song. Here is what changed and what did not."),
                ("Why I Let My Kids Be Bored This Summer",
                 "No camps, no tablets, no schedule. One father explains why a summer of boredom turned out to be "
                 "the best thing for his three kids.")],
    "style & beauty": [("{n} Spring Trends You Will See Everywhere",
                        "From pastel suits to chunky loafers, designers in {city} agreed on a few looks this season. "
                        "Here are {n} we expect to see on the street."),
                       ("{person} Wore The Most Daring Look Of The Night",
                        "The red carpet was full of safe choices, except for {person}, who arrived in a sculptural "
                        "gown made of recycled glass.")],
    "entertainment": [("{person} Joins Cast Of Long-Awaited Sequel",
                       "{person} has signed on to the sequel, which begins filming in {city} next month. Fans have "
                       "waited almost a decade for the follow-up."),
                      ("Streaming Service Cancels Hit Show After {n} Seasons",
                       "The decision surprised fans and cast members alike, who learned of the cancellation on social "
                       "media. The show had been among the most watched of the year.")],
    "food & drink": [("The Easiest Weeknight Pasta You Will Ever Make",
                      "Five ingredients, one pot and about twenty minutes: this lemon and garlic pasta is the dinner "
                      "{person} makes when there is nothing in the fridge."),
                     ("{city}'s Coffee Scene Is Booming",
                      "Small roasters have opened {n} new cafés in {city} this year, and locals are lining up for "
                      "pour-overs and cardamom buns.")],
    "science & technology": [("Researchers Build Battery That Charges In {n} Seconds",
                              "A team at {org} has developed a prototype battery that charges in {n} seconds. The "
                              "researchers caution that commercial use is still years away."),
                             ("Astronomers Spot Water Vapor On A Distant Planet",
                              "Using a space telescope, astronomers detected water vapor in the atmosphere of a planet "
                              "about {n} light years away, a first for a world of its size.")],
    "business": [("Startup Raises ${n} Million To Fix Grocery Waste",
                  "A company from {city} that sells imperfect produce at a discount raised ${n} million this week. "
                  "Its founder, {person}, says demand doubled last year."),
                 ("Why Small Retailers Are Struggling This Holiday Season",
                  "Higher rents and online competition are squeezing independent shops in {city}. Owners say foot "
                  "traffic is down even as sales online grow.")],
    "sports": [("{city} Stuns Champions In Overtime Thriller",
                "A late goal sent the game to overtime, where a rookie scored the winner. It was the team's {n}th "
                "straight home win."),
               ("{person} Announces Retirement After Record Career",
                "After {n} seasons, {person} said goodbye to the sport in an emotional press conference, thanking "
                "coaches, teammates and fans.")],
    "healthy living": [("{n} Small Habits That Can Lower Your Stress",
                        "You do not need a week at a spa to feel calmer. Doctors at {org} recommend a few habits that "
                        "take less than ten minutes a day."),
                       ("Is Walking Really As Good As Running?",
                        "A new study of {n} adults suggests brisk walking offers many of the same heart benefits as "
                        "running, with fewer injuries.")],
    "women": [("The Women Rewriting The Rules Of Engineering",
               "Fewer than one in five engineers in {city} is a woman. Meet {person} and the colleagues who are "
               "trying to change that."),
              ("What I Wish I Had Known Before Asking For A Raise",
               "{person} spent years afraid to negotiate her salary. Here is the advice she now gives every young "
               "woman she mentors.")],
    "politics": [("Senate Vote On Budget Delayed Again",
                  "Leaders postponed the vote for the {n}th time as negotiations over spending stalled. Both sides "
                  "blamed the other for the impasse."),
                 ("Mayor Of {city} Faces Tough Reelection Fight",
                  "Polls show the incumbent trailing for the first time, as voters worry about housing costs and "
                  "transit delays.")],
    "crime": [("Police Arrest Suspect In String Of {city} Burglaries",
               "Officers arrested a man suspected in {n} break-ins across the east side. Police say stolen jewelry "
               "was found in a storage unit."),
              ("Bank Employee Charged With Stealing From Elderly Clients",
               "Prosecutors say the employee of {org} moved money from the accounts of {n} customers over three "
               "years.")],
    "culture & arts": [("Museum In {city} Reopens With Bold New Wing",
                        "After {n} years of renovation, the museum unveiled a glass wing devoted to contemporary art, "
                        "with works by {person} and others."),
                       ("A Forgotten Poet Finds New Readers Online",
                        "Poems written a century ago by a schoolteacher from {city} are going viral, thanks to a "
                        "student who posted them on social media.")],
    "religion": [("Congregations In {city} Open Doors To Homeless Neighbors",
                  "Churches, mosques and synagogues are taking turns hosting overnight shelters this winter, serving "
                  "about {n} people each night."),
                 ("Pope Calls For Action On Climate In New Letter",
                  "In a letter released Sunday, the pope urged world leaders to act on climate change, calling it a "
                  "moral issue.")],
}

# ---------------------------------------------------------------------------------------------------------
# Product reviews (LaMP-3): sentences chosen by the star rating.
PRODUCTS = ["blender", "pair of running shoes", "phone case", "novel", "coffee grinder", "backpack",
            "desk lamp", "set of headphones", "yoga mat", "cookbook"]
ASPECTS = ["build quality", "price", "battery life", "comfort", "customer service", "packaging"]
REVIEW_OPENERS = {
    "1": ["Terrible {product}.", "Do not buy this {product}.", "Returned it after two days."],
    "2": ["Disappointing {product}.", "Not what I expected from this {product}.", "Meh."],
    "3": ["It is an okay {product}.", "Decent {product} for the money.", "Mixed feelings about this one."],
    "4": ["Really nice {product}.", "Very happy with this {product}.", "Good purchase overall."],
    "5": ["Absolutely love this {product}!", "Best {product} I have ever owned.", "Five stars, no question."],
}
REVIEW_BODIES = {
    "1": ["The {aspect} is awful and it broke within a week.", "It stopped working the first time I used it."],
    "2": ["The {aspect} is below average and it feels cheap.", "It works, but the {aspect} lets it down."],
    "3": ["The {aspect} is fine, though nothing special.", "Some things are great, but the {aspect} could be better."],
    "4": ["The {aspect} is better than I expected.", "Solid {aspect}, with only minor annoyances."],
    "5": ["The {aspect} is outstanding and it still looks new after months.", "Everything about the {aspect} is perfect."],
}
REVIEW_CLOSERS = {
    "1": ["Save your money.", "Avoid."], "2": ["Would not buy again.", "Maybe for someone less picky."],
    "3": ["It does the job.", "Fine if it is on sale."], "4": ["Would recommend.", "I would buy it again."],
    "5": ["Highly recommended!", "Buying one for my sister too. 🎁"],
}

# ---------------------------------------------------------------------------------------------------------
# Tweets (LaMP-7): (the user's own wording, a neutral paraphrase) with shared slots.
TWEETS = [
    ("ugh {thing} is killing me today {emoji}", "{thing} is really bothering me today."),
    ("finally done with {thing}!!! time for a nap {emoji}", "I have finally finished {thing} and I am going to take a nap."),
    ("who else is stuck in traffic in {city} rn", "Is anyone else currently stuck in traffic in {city}?"),
    ("cant believe its monday again smh", "I can not believe that it is Monday again."),
    ("{thing} > literally everything else", "{thing} is better than anything else."),
    ("best coffee in {city}? need recs asap ☕", "Can anyone recommend the best coffee shop in {city}? I need suggestions soon."),
    ("lol my cat just knocked {thing} off the table again", "My cat knocked {thing} off the table again, which is funny."),
    ("so proud of my team today {emoji} #teamwork", "I am very proud of my team today."),
    ("why does {thing} always take 3x longer than planned", "Why does {thing} always take much longer than expected?"),
    ("new blog post up! all about {thing}, link in bio", "I published a new blog post about {thing}; the link is in my profile."),
    ("rainy day in {city}, perfect excuse for {thing}", "It is raining in {city}, which is a good reason for {thing}."),
    ("not me crying over {thing} at 2am {emoji}", "I was crying about {thing} at two in the morning."),
]
TWEET_THINGS = ["the new season finale", "my thesis draft", "grocery shopping", "homemade ramen", "spring cleaning",
                "this crossword", "tax paperwork", "marathon training", "my sourdough starter", "a K-pop playlist"]


def _fill(rng: random.Random, text: str, **fixed) -> str:
    """Replace the shared placeholders of ``text`` with random fillers (``fixed`` overrides)."""
    values = {"city": rng.choice(CITIES), "person": rng.choice(PEOPLE), "org": rng.choice(ORGS),
              "n": str(rng.randint(3, 40)), "emoji": rng.choice(EMOJI)}
    values.update(fixed)
    return text.format(**values)


def _paper(rng: random.Random, area: str) -> dict:
    vocab = AREAS[area]
    method, problem = rng.choice(vocab["methods"]), rng.choice(vocab["problems"])
    domain, data = rng.choice(vocab["domains"]), rng.choice(vocab["data"])
    slots = dict(method=method, Method=method[0].upper() + method[1:], problem=problem,
                 Problem=problem[0].upper() + problem[1:], domain=domain, data=data, pct=rng.randint(2, 18))
    title = rng.choice(TITLE_PATTERNS).format(**slots)
    abstract = " ".join(rng.choice(options).format(**slots) for options in ABSTRACT_SENTENCES)
    return {"title": title, "abstract": abstract}


def _movie(rng: random.Random, tag: str) -> dict:
    text = rng.choice(MOVIE_PLOTS[tag]) + rng.choice(MOVIE_EXTRAS)
    return {"description": _fill(rng, text), "tag": tag}


def _news(rng: random.Random, category: str) -> dict:
    title, text = rng.choice(NEWS[category])
    fixed = {"city": rng.choice(CITIES), "person": rng.choice(PEOPLE), "n": str(rng.randint(3, 40))}
    return {"title": _fill(rng, title, **fixed), "text": _fill(rng, text, **fixed), "category": category}


def _review(rng: random.Random, score: str) -> dict:
    product, aspect = rng.choice(PRODUCTS), rng.choice(ASPECTS)
    parts = [rng.choice(REVIEW_OPENERS[score]), rng.choice(REVIEW_BODIES[score]), rng.choice(REVIEW_CLOSERS[score])]
    return {"text": " ".join(parts).format(product=product, aspect=aspect), "score": score}


def _tweet(rng: random.Random) -> tuple[str, str]:
    own, neutral = rng.choice(TWEETS)
    slots = {"thing": rng.choice(TWEET_THINGS), "city": rng.choice(CITIES), "emoji": rng.choice(EMOJI)}
    own, neutral = own.format(**slots), neutral.format(**slots)
    return own, neutral[0].upper() + neutral[1:]


# ---------------------------------------------------------------------------------------------------------
# Per task: a user persona, a profile item drawn from it, and a question (input, output) drawn from it.
def _persona(task: str, rng: random.Random) -> dict:
    if task in ("LaMP_1", "LaMP_5"):
        return {"areas": rng.sample(sorted(AREAS), 2)}
    if task == "LaMP_2":
        return {"tags": rng.sample(MOVIE_TAGS, 3)}
    if task in ("LaMP_2N", "LaMP_4"):
        return {"categories": rng.sample(NEWS_CATEGORIES, 3)}
    if task == "LaMP_3":
        mean = rng.choice([2, 3, 4, 4, 5])
        return {"scores": [str(min(5, max(1, mean + d))) for d in (-1, 0, 0, 1)]}
    return {}


def _item(task: str, rng: random.Random, persona: dict) -> dict:
    if task in ("LaMP_1", "LaMP_5"):
        return _paper(rng, rng.choice(persona["areas"]))
    if task == "LaMP_2":
        return _movie(rng, rng.choice(persona["tags"]))
    if task == "LaMP_2N":
        return _news(rng, rng.choice(persona["categories"]))
    if task == "LaMP_4":
        item = _news(rng, rng.choice(persona["categories"]))
        return {"text": item["text"], "title": item["title"]}
    if task == "LaMP_3":
        return _review(rng, rng.choice(persona["scores"]))
    return {"text": _tweet(rng)[0]}


def _question(task: str, rng: random.Random, persona: dict) -> tuple[str, str]:
    template = TEMPLATES[task]
    if task == "LaMP_1":
        own_area = rng.choice(persona["areas"])
        other_area = rng.choice([a for a in sorted(AREAS) if a not in persona["areas"]])
        related, unrelated = _paper(rng, own_area)["title"], _paper(rng, other_area)["title"]
        answer = rng.choice(["[1]", "[2]"])
        refs = (related, unrelated) if answer == "[1]" else (unrelated, related)
        title = _paper(rng, own_area)["title"]
        return template.format(title=title, ref1=refs[0], ref2=refs[1]), answer
    if task == "LaMP_5":
        paper = _paper(rng, rng.choice(persona["areas"]))
        return template.format(abstract=paper["abstract"]), paper["title"]
    if task == "LaMP_2":
        movie = _movie(rng, rng.choice(persona["tags"]))
        return template.format(description=movie["description"]), movie["tag"]
    if task == "LaMP_2N":
        news = _news(rng, rng.choice(persona["categories"]))
        return template.format(text=news["text"]), news["category"]
    if task == "LaMP_4":
        news = _news(rng, rng.choice(persona["categories"]))
        return template.format(text=news["text"]), news["title"]
    if task == "LaMP_3":
        review = _review(rng, rng.choice(persona["scores"]))
        return template.format(text=review["text"]), review["score"]
    own, neutral = _tweet(rng)
    return template.format(tweet=neutral), own


def _date(rng: random.Random, task: str, first_year: int, last_year: int) -> str:
    year = rng.randint(first_year, last_year)
    if task in ("LaMP_1", "LaMP_5"):
        return str(year)
    return f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _main_field(item: dict) -> str:
    return next(f for f in ("abstract", "description", "text") if f in item)


def _profile(task: str, rng: random.Random, persona: dict, ids: list[str], years: tuple[int, int],
             dated: bool) -> list[dict]:
    """Items ``ids`` drawn from ``persona``, avoiding exact repeats within the profile."""
    items, seen = [], set()
    for item_id in ids:
        for _ in range(20):                 # few exact repeats: the near-duplicate below is deliberate
            item = {"id": item_id, **_item(task, rng, persona)}
            key = item[_main_field(item)]
            if key not in seen:
                break
        seen.add(key)
        if dated:
            item["date"] = _date(rng, task, *years)
        items.append(item)
    return items


def _near_duplicate(item: dict, item_id: str) -> dict:
    """A copy of ``item`` whose main text differs by one trailing word, as reposted items do in the real data."""
    copy = dict(item, id=item_id)
    field = _main_field(copy)
    copy[field] = copy[field].rstrip(".!") + " (updated)."
    return copy


def _user_split(task: str, rng: random.Random) -> dict:
    """User split: every question is its own user with a profile of 6-15 items. Extras: the first train profile
    holds a near-duplicate item, the last test profile a single item; LaMP-7 items carry no date."""
    dated = task != "LaMP_7"
    files = {}
    for s, split in enumerate(SPLITS):
        questions, golds = [], []
        for n in range(USER_SPLIT_SIZES[split]):
            qid = f"{ID_PREFIX[task]}{s}{n:02d}"
            persona = _persona(task, rng)
            size = 1 if (split == "test" and n == USER_SPLIT_SIZES[split] - 1) else rng.randint(6, 15)
            ids = [f"{qid}{j:02d}" for j in range(size)]
            profile = _profile(task, rng, persona, ids, (2008, 2019), dated)
            if split == "train" and n == 0:
                profile.append(_near_duplicate(profile[1], f"{qid}{size:02d}"))
            text, output = _question(task, rng, persona)
            questions.append({"id": qid, "input": text, "profile": profile})
            golds.append({"id": qid, "output": output})
        files[split] = (questions, golds)
    return files


def _time_split(task: str, rng: random.Random) -> dict:
    """Time split: 3 users who appear in every split; a user's questions in one split share one profile, the
    history up to that split (train: to 2016, dev adds 2017, test adds 2018). Every item is dated."""
    users = []
    for u in range(3):
        user_id = f"{ID_PREFIX[task]}{u + 1:02d}{rng.randint(100, 999)}"
        persona = _persona(task, rng)
        users.append((user_id, persona, []))
    files = {}
    for s, split in enumerate(SPLITS):
        questions, golds = [], []
        n = 0
        for user_id, persona, history in users:
            new_items = rng.randint(6, 10) if split == "train" else rng.randint(1, 3)
            start = len(history)
            ids = [f"{user_id}{j:03d}" for j in range(start, start + new_items)]
            years = (2009, 2016) if split == "train" else (2016 + s, 2016 + s)
            history.extend(_profile(task, rng, persona, ids, years, dated=True))
            for _ in range(rng.randint(2, 4)):
                qid = f"{ID_PREFIX[task]}{5 + s}{n:02d}"
                n += 1
                text, output = _question(task, rng, persona)
                questions.append({"id": qid, "input": text, "profile": list(history), "user_id": user_id})
                golds.append({"id": qid, "output": output})
        files[split] = (questions, golds)
    return files


def _real_data_quirks(task: str, kind: str, files: dict) -> None:
    """What the real files have and the synthetic text does not: LaMP-4 profile items without a ``date`` (third-party
    builds drop them), a null text (LaMP-3) and an empty abstract (LaMP-5). Never in a split's first question."""
    if task == "LaMP_4":
        profile = files["train"][0][1]["profile"] if kind == "user" else files["train"][0][-1]["profile"]
        del profile[2]["date"]  # in the time split the item is shared by every later profile of its user
    elif task == "LaMP_3" and kind == "user":
        files["train"][0][1]["profile"][3]["text"] = None
    elif task == "LaMP_5" and kind == "user":
        files["dev"][0][1]["profile"][2]["abstract"] = ""


def _write_json(path: Path, data, ascii_only: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=ascii_only)
    os.replace(tmp, path)


def write_sample(out_dir: Path) -> list[Path]:
    """Write the whole sample tree under ``out_dir``; return the files written, in order."""
    written = []
    for task_name in TASK_NAMES:
        task = get_task(task_name)
        gold_task = task.raw_dir.split("/")[0]      # movie tagging and news both say "LaMP_2"
        for kind, make in (("user", _user_split), ("time", _time_split)):
            rng = random.Random(f"{SEED}-{task_name}-{kind}")
            # The official files are plain json.dump output (\u escapes); a few are UTF-8, as re-saved mirrors are.
            ascii_only = not (kind == "time" and task_name in ("LaMP_2", "LaMP_4", "LaMP_7"))
            files = make(task_name, rng)
            _real_data_quirks(task_name, kind, files)
            for split, (questions, golds) in files.items():
                path = out_dir / lamp_raw_path(task, kind, split, "questions")
                _write_json(path, questions, ascii_only)
                written.append(path)
                if split != "test":            # test outputs are withheld by the benchmark
                    path = out_dir / lamp_raw_path(task, kind, split, "outputs")
                    _write_json(path, {"task": gold_task, "golds": golds}, ascii_only)
                    written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "lamp"
    files = write_sample(target)
    print(f"wrote {len(files)} files under {target}")
