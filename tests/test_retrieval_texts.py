"""Queries and documents per task (rank_profiles.py's recipes, read from the registry) and recency order."""

from __future__ import annotations

import pytest

from lampkit.errors import LampkitError
from lampkit.retrieval import document_texts
from lampkit.retrieval import parse_date
from lampkit.retrieval import query_text
from lampkit.retrieval import recency_rank
from lampkit.tasks import get_task

LAMP1_INPUT = ('For an author who has written the paper with the title "Deep nets: a survey", which reference is '
               'related? Just answer with [1] or [2] without explanation. [1]: "Sparse coding\nrevisited" '
               '[2]: "On "quoted" words"')


def test_lamp1_query_is_the_two_candidates():
    # The quotes toggle: a candidate may span lines, and inner quotes split it the way the original loop did.
    assert query_text(get_task("LaMP_1"), LAMP1_INPUT) == "Sparse coding\nrevisited On "
    with pytest.raises(LampkitError, match=r"record q1: field 'input': .*3 double-quoted strings, found 2"):
        query_text(get_task("LaMP_1"), 'title "a" [1]: "b" [2]: "c', record="q1")


@pytest.mark.parametrize("task_name,text,expected", [
    ("LaMP_2", "Which tag ... tags: [sci-fi, comedy] description:  A man: alone.\n", "A man: alone."),
    ("LaMP_2N", "Which category ... article: Stocks fell: again ", "Stocks fell: again"),
    ("LaMP_3", "What is the score ... review: Great: loved it", "Great: loved it"),
    ("LaMP_4", "Generate a headline for the following article: Rain: more to come", "Rain: more to come"),
    ("LaMP_5", "Generate a title for the following abstract of a paper: We study: things", "We study: things"),
    ("LaMP_6", "Generate a subject for the following email: Hi all: meeting", "Hi all: meeting"),
    ("LaMP_7", "Paraphrase the following tweet without any explanation before or after it: so: tired",
     "so: tired"),
    ("abstract_generation", 'Generate an abstract for the title "T" using the following items: a, b: c.',
     "a, b: c."),
    ("product_review", " Generate the review text ... The summary of the review text is ok. ",
     " Generate the review text ... The summary of the review text is ok. "),
    ("topic_writing", "Generate the content for a reddit post  tl;dr: x ", "Generate the content for a reddit post  tl;dr: x "),
    ("email_generation", "Complete the text of the following email. title: Hi. text: Dear", "Hi. text: Dear"),
])
def test_query_cut_per_task(task_name, text, expected):
    assert query_text(get_task(task_name), text) == expected


def test_missing_marker_names_record_and_field():
    with pytest.raises(LampkitError, match=r"record 42: field 'input': no 'article:'"):
        query_text(get_task("LaMP_4"), "no marker here", record=42)


ITEMS = [{"id": "1", "title": "Rain", "text": "It rains.", "date": "2020-01-02"},
         {"id": "2", "title": "Sun", "text": "Bright  day", "date": "2019"}]


def test_documents_join_fields_and_dates():
    task = get_task("LaMP_4")
    assert document_texts(task, ITEMS) == ["Rain It rains.", "Sun Bright  day"]
    assert document_texts(task, ITEMS, use_date=True) == ["Rain It rains. date: 2020-01-02",
                                                          "Sun Bright  day date: 2019"]
    review = {"overall": "5.0", "summary": "Nice", "description": "A lamp", "reviewText": "Works."}
    assert document_texts(get_task("product_review"), [review]) == ["5.0 Nice A lamp Works."]
    topic = {"id": "1", "author": "u", "summary": "S", "content": "C"}
    assert document_texts(get_task("topic_writing"), [topic]) == ["S C"]
    assert document_texts(task, []) == []


def test_document_errors():
    task = get_task("LaMP_7")
    with pytest.raises(LampkitError, match=r"record q7: field 'profile\[1\]\.date': missing"):
        document_texts(task, [{"id": "1", "text": "a", "date": "2020"}, {"id": "2", "text": "b", "date": None}],
                       use_date=True, record="q7")
    with pytest.raises(LampkitError, match=r"field 'profile\[0\]\.text': missing"):
        document_texts(task, [{"id": "1", "date": "2020"}])
    with pytest.raises(LampkitError, match="topic_writing profile items have no date"):
        document_texts(get_task("topic_writing"), [], use_date=True)


def test_recency_newest_first_ties_in_profile_order():
    profile = [{"date": d} for d in ["2019-05-01", "2020", "2019-05-01", "2019-12-31", "2019-5-1", "2021-01-01"]]
    assert recency_rank(profile) == [5, 1, 3, 0, 2, 4]
    assert parse_date("2019-05-01") == (2019, 5, 1) and parse_date(2019) == (2019,)
    assert recency_rank([]) == []


def test_recency_not_by_date_is_reverse_profile_order():
    assert recency_rank([{"summary": "a"}, {"date": "2020"}, {"date": None}], by_date=False) == [2, 1, 0]


def test_recency_ranks_undated_last_and_a_bad_date_names_record_and_field():
    assert recency_rank([{"date": None}, {"date": "2020"}, {"date": ""}, {"date": "2021"}], record="u3") == [3, 1, 0, 2]
    with pytest.raises(LampkitError, match=r"record u3: field 'profile\[0\]\.date': cannot parse date 'May 2020'"):
        recency_rank([{"date": "May 2020"}], record="u3")
