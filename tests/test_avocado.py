"""Avocado (LDC2015T03) reader: parsing as mail-parser 3.15.0, LaMP-6 / LongLaMP email records, errors."""

from __future__ import annotations

import importlib.util
import json
import re
import struct
import zipfile
from pathlib import Path

import pytest

from lampkit import avocado
from lampkit.errors import LampkitError
from lampkit.tasks import LAMP6_INPUT
from lampkit.tasks import LONGLAMP_EMAIL_INPUT
from lampkit.tasks import get_task
from lampkit.tasks import lamp_raw_path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"

_spec = importlib.util.spec_from_file_location("make_avocado_sample", SAMPLES / "make_avocado_sample.py")
make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make)

LAMP6 = get_task("LaMP_6")
SPLITS = ("train", "dev", "test")


@pytest.fixture(scope="module")
def avocado_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("avocado")
    make.write_avocado(root)
    return root


@pytest.fixture(scope="module")
def lamp_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lamp")
    make.write_lamp6_ids(root)
    return root


def _refs(lamp_root: Path) -> dict:
    refs: dict = {}
    for kind in ("user", "time"):
        for split in SPLITS:
            path = lamp_root / lamp_raw_path(LAMP6, kind, split, "questions")
            avocado.email_references(json.loads(path.read_text()), file=path, refs=refs)
    return refs


@pytest.fixture(scope="module")
def emails(avocado_root, lamp_root) -> dict:
    return avocado.read_emails(avocado_root, _refs(lamp_root), progress=False)


def test_reads_every_referenced_email_and_nothing_else(emails, lamp_root):
    assert set(emails) == set(_refs(lamp_root))
    assert len(emails) == 24
    assert "001-000099-EM.txt" not in emails  # in the zip but named by no question


def test_subject_rfc2047_and_8bit_utf8_body(emails):
    mail = emails["003-000002-EM.txt"]
    assert mail.subject == "Møde i København – agenda"
    assert mail.body.startswith("Hej,\n\nAgenda for mødet i København")
    assert mail.body.endswith("Ingrid Sørensen")


def test_multipart_alternative_joins_plain_then_html_with_mail_parser_separator(emails):
    body = emails["001-000004-EM.txt"].body
    plain, html = body.split(avocado.PART_SEPARATOR)
    assert plain.startswith("Hi all,") and plain.endswith("Karen\n")  # parts are not stripped, the body is
    assert html.startswith("<html><body>") and html.endswith("</html>")


def test_attachment_part_is_left_out_of_the_body(emails):
    assert emails["002-000003-EM.txt"].body == ("Dan,\n\nDraft release notes for 2.1 attached. Known issues are at "
                                               "the end.\n\nMarcus")


def test_body_is_stripped_and_empty_body_is_empty(emails):
    assert emails["004-000003-EM.txt"] == avocado.Email(subject="Signed PO attached", body="")
    for mail in emails.values():
        assert mail.body == mail.body.strip()


def test_transfer_encodings_are_decoded(emails):
    assert "partner training in Århus" in emails["003-000005-EM.txt"].body  # quoted-printable, iso-8859-1
    assert emails["003-000005-EM.txt"].subject == "Training in Århus"
    assert emails["004-000005-EM.txt"].body.startswith("Karen,\n\nQ4 commission statements")  # base64


# Expected values recorded by running mail-parser 3.15.0 (``parse_from_file``; ``subject``, ``body.strip()``).
MAIL_PARSER_3_15 = [
    (b"Subject: a long subject\n line two\n\nbody\n", "a long subject\n line two", "body"),
    (b"Subject: crlf\r\n\r\nline1\r\nline2\r\n", "crlf", "line1\nline2"),
    (b"Subject: cr\r\rline1\rline2\r", "cr", "line1\nline2"),
    (b"Attachment text without headers.\n", "", ""),
    (b"Subject: path\n\nthe file caf\\u00e9.doc\n", "path", "the file café.doc"),
    (b"Subject: =?utf-8?q?Caf=C3=A9?= =?utf-8?q?_au_lait?= and more\n\nb\n", "Café au lait and more", "b"),
    (b"Subject: caf\xe9 time\n\nx\n", "caf time", "x"),
    (b"Subject: =?x-foo?q?abc?= tail\n\nx\n", "abc tail", "x"),
    (b"Subject: s\nthis is body without separator\n", "s", "this is body without separator"),
    (b'Subject: r\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain'
     b"\n\nplain\n--b\nContent-Type: application/rtf\n\n{\\rtf1 x}\n--b--\n", "r", "plain"),
    (b'Subject: o\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/html'
     b"\n\n<b>x</b>\n--b\nContent-Type: text/csv\n\na,b\n--b\nContent-Type: text/plain\n\nplain\n--b--\n",
     "o", "plain\n--- mail_boundary ---\n<b>x</b>\n--- mail_boundary ---\na,b"),
    (b'Subject: fwd\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain'
     b"\n\ntop\n--b\nContent-Type: message/rfc822\n\nSubject: inner\n\ninner body\n--b--\n",
     "fwd", "top\n--- mail_boundary ---\ninner body"),
    (b'Subject: i\nMIME-Version: 1.0\nContent-Type: multipart/related; boundary="b"\n\n--b\nContent-Type: text/html'
     b"\n\n<p>hi</p>\n--b\nContent-Type: image/gif\nContent-ID: <x>\nContent-Transfer-Encoding: base64\n\nR0lGODlh\n"
     b"--b--\n", "i", "<p>hi</p>"),
]


@pytest.mark.parametrize(("raw", "subject", "body"), MAIL_PARSER_3_15)
def test_parse_email_matches_mail_parser_3_15(raw, subject, body):
    assert avocado.parse_email(raw) == avocado.Email(subject=subject, body=body)


def test_deliberate_differences_from_mail_parser():
    # mail-parser returned a list for repeated Subject headers and crashed on a malformed \u escape.
    assert avocado.parse_email(b"Subject: one\nSubject: two\n\nbody\n").subject == "one"
    assert avocado.parse_email(b"Subject: p\n\nC:\\users\\kw\n").body == "C:\\users\\kw"


def test_lamp6_records_user_split(emails, lamp_root):
    path = lamp_root / lamp_raw_path(LAMP6, "user", "train", "questions")
    records = list(avocado.lamp6_records(json.loads(path.read_text()), emails, file=path))
    assert [r["id"] for r in records] == ["600", "601"]
    first = records[0]
    target = emails["001-000006-EM.txt"]
    assert first["input"] == LAMP6_INPUT.format(body=target.body)
    assert first["output"] == "RE: Forecast for April" == target.subject
    assert "user_id" not in first
    assert len(first["profile"]) == 5
    item = first["profile"][3]
    assert item == {"text": emails["001-000004-EM.txt"].body, "id": "6001004", "date": "2001-01-08",
                    "title": "Kickoff agenda"}


def test_lamp6_records_time_split_keep_user_id(emails, lamp_root):
    path = lamp_root / lamp_raw_path(LAMP6, "time", "test", "questions")
    records = list(avocado.lamp6_records(json.loads(path.read_text()), emails, file=path))
    assert [r["user_id"] for r in records] == ["6001", "6002", "6003", "6004"]
    assert records[3]["output"] == "Audit fieldwork dates"
    assert [p["title"] for p in records[3]["profile"]][2] == "Signed PO attached"
    assert records[3]["profile"][2]["text"] == ""


def test_longlamp_email_record_splits_words(emails):
    question = {"id": "e1", "input": "001-000005-EM.txt", "content_length": 4, "user_id": "u1",
                "profile": [{"id": "p1", "text": "001-000001-EM.txt"}]}
    record = avocado.longlamp_email_record(question, emails)
    words = emails["001-000005-EM.txt"].body.split()
    assert record["input"] == LONGLAMP_EMAIL_INPUT.format(subject="Meridian contract signed",
                                                          prefix="Priya, Meridian signed this")
    assert record["output"] == " ".join(words[4:]) and record["output"].startswith("morning: 400 seats")
    assert record["profile"] == [{"id": "p1", "text": emails["001-000001-EM.txt"].body,
                                  "title": "Q3 pipeline review"}]
    assert record["user_id"] == "u1" and "content_length" not in record


@pytest.mark.parametrize("length", [None, -1, "4", True, 2.5])
def test_longlamp_email_record_rejects_bad_content_length(emails, length):
    question = {"id": "e9", "input": "001-000005-EM.txt", "content_length": length, "profile": []}
    with pytest.raises(LampkitError, match=r"q\.json: record e9: field 'content_length'"):
        avocado.longlamp_email_record(question, emails, file="q.json")


def test_missing_email_names_basename_file_record_and_field(avocado_root, tmp_path):
    path = tmp_path / "dev_questions.json"
    questions = [{"id": "610", "input": "001-000001-EM.txt",
                  "profile": [{"id": "1", "text": "001-000002-EM.txt", "date": "2000-10-02"},
                              {"id": "2", "text": "009-000042-EM.txt", "date": "2001-01-01"}]}]
    path.write_text(json.dumps(questions))
    refs = avocado.email_references(questions, file=path)
    with pytest.raises(LampkitError) as err:
        avocado.read_emails(avocado_root, refs, progress=False)
    message = str(err.value)
    assert message.startswith(f"{path}: record 610: field 'profile[1].text': ")
    assert "'009-000042-EM.txt'" in message and "\n" not in message
    assert (err.value.file, err.value.record, err.value.field) == (path, "610", "profile[1].text")


def test_missing_email_without_references_still_names_basename(avocado_root):
    with pytest.raises(LampkitError, match="'nope.txt' is in none of the 4 zips"):
        avocado.read_emails(avocado_root, ["001-000001-EM.txt", "nope.txt"], progress=False)


def test_lamp6_record_with_email_not_read(emails):
    question = {"id": "7", "input": "001-000001-EM.txt", "profile": [{"id": "1", "text": "x.txt"}]}
    with pytest.raises(LampkitError, match=r"q\.json: record 7: field 'profile\[0\]\.text': .*'x\.txt'"):
        avocado.lamp6_record(question, emails, file="q.json")


@pytest.mark.parametrize(("question", "field"), [
    ({"id": "5", "profile": []}, "input"),
    ({"id": "5", "input": "a.txt"}, "profile"),
    ({"id": "5", "input": "a.txt", "profile": [{"id": "1", "text": 3}]}, "profile[0].text"),
    ({"id": "5", "input": "a.txt", "profile": ["b.txt"]}, "profile[0]"),
])
def test_email_references_rejects_malformed_questions(question, field):
    with pytest.raises(LampkitError, match=re.escape(f"q.json: record 5: field '{field}'")):
        avocado.email_references([question], file="q.json")


def test_email_references_keeps_first_reference():
    questions = [{"id": "1", "input": "a.txt", "profile": [{"text": "b.txt"}]},
                 {"id": "2", "input": "b.txt", "profile": [{"text": "a.txt"}]}]
    refs = avocado.email_references(questions, file="f.json")
    assert refs == {"a.txt": avocado.EmailRef("f.json", "1", "input"),
                    "b.txt": avocado.EmailRef("f.json", "1", "profile[0].text")}


def test_missing_directory_says_where_the_data_comes_from(tmp_path):
    missing = tmp_path / "no-such-dir"
    for where in (missing, None):
        with pytest.raises(LampkitError) as err:
            avocado.read_emails(where, ["001-000001-EM.txt"], progress=False)
        message = str(err.value)
        assert "LDC2015T03" in message and "https://catalog.ldc.upenn.edu/LDC2015T03" in message
        assert "avocado-1.0.2/data/text" in message and "\n" not in message
    assert err.value.field == "avocado_dir"
    with pytest.raises(LampkitError, match=f"^{re.escape(str(missing))}: Avocado folder not found"):
        avocado.read_emails(missing, [], progress=False)


def test_folder_without_zips_is_an_error(tmp_path):
    (tmp_path / "avocado-1.0.2" / "data" / "text").mkdir(parents=True)
    with pytest.raises(LampkitError, match=f"^{re.escape(str(tmp_path))}: no Avocado zips"):
        avocado.read_emails(tmp_path, ["001-000001-EM.txt"], progress=False)


@pytest.mark.parametrize("below", [(), ("avocado-1.0.2",), ("avocado-1.0.2", "data", "text")])
def test_accepts_root_or_text_folder(avocado_root, below):
    got = avocado.read_emails(avocado_root.joinpath(*below), ["002-000001-EM.txt"], progress=False)
    assert got["002-000001-EM.txt"].subject == "Build server down"


def test_progress_bar_can_be_turned_off(avocado_root, capsys):
    avocado.read_emails(avocado_root, ["004-000006-EM.txt"], progress=False)
    assert capsys.readouterr().err == ""
    avocado.read_emails(avocado_root, ["004-000006-EM.txt"], progress=True)
    assert "Avocado zips" in capsys.readouterr().err


def _corrupt_member(zip_path: Path, member: str) -> None:
    """Flip bytes in the stored data of one member, so that reading it (and only it) fails."""
    with zipfile.ZipFile(zip_path) as archive:
        info = archive.getinfo(member)
    data = bytearray(zip_path.read_bytes())
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    for i in range(start, start + min(info.compress_size, 8)):
        data[i] ^= 0xFF
    zip_path.write_bytes(bytes(data))


def test_reads_only_the_needed_members_and_stops_when_all_are_found(tmp_path):
    text_dir = make.write_avocado(tmp_path)
    _corrupt_member(text_dir / "001.zip", "001/001-000099-EM.txt")  # in the zip, never asked for
    (text_dir / "zzz.zip").write_bytes(b"not a zip")  # after every wanted email in name order
    got = avocado.read_emails(tmp_path, ["001-000001-EM.txt", "004-000002-EM.txt"], progress=False)
    assert got["001-000001-EM.txt"].subject == "Q3 pipeline review"
    assert got["004-000002-EM.txt"].subject == "Budget variance August"

    with pytest.raises(LampkitError, match=r"001\.zip: record 001/001-000099-EM\.txt: unreadable Avocado zip"):
        avocado.read_emails(tmp_path, ["001-000099-EM.txt"], progress=False)
    with pytest.raises(LampkitError, match=r"zzz\.zip: unreadable Avocado zip"):
        avocado.read_emails(tmp_path, ["missing-EM.txt"], progress=False)


def test_only_members_one_folder_deep_count(tmp_path):
    text_dir = tmp_path / "text"
    text_dir.mkdir()
    mail = b"Subject: deep\n\nbody\n"
    with zipfile.ZipFile(text_dir / "005.zip", "w") as archive:
        archive.writestr("005-000001-EM.txt", mail)
        archive.writestr("005/sub/005-000002-EM.txt", mail)
        archive.writestr("005/005-000003-EM.txt", mail)
    assert list(avocado.read_emails(text_dir, ["005-000003-EM.txt"], progress=False)) == ["005-000003-EM.txt"]
    for name in ("005-000001-EM.txt", "005-000002-EM.txt"):
        with pytest.raises(LampkitError, match=name):
            avocado.read_emails(text_dir, [name], progress=False)


def test_shipped_samples_match_the_generator(tmp_path, avocado_root):
    make.write_lamp6_ids(tmp_path)
    for kind in ("user", "time"):
        for split in SPLITS:
            rel = lamp_raw_path(LAMP6, kind, split, "questions")
            shipped = (SAMPLES / "lamp" / rel).read_text()
            assert shipped == (tmp_path / rel).read_text()
            assert isinstance(json.loads(shipped), list)  # the id files are plain lists, test included
            outputs = SAMPLES / "lamp" / lamp_raw_path(LAMP6, kind, split, "outputs")
            assert not outputs.exists()  # outputs are the subjects, made by the build
    shipped_dir = SAMPLES / "avocado" / "avocado-1.0.2" / "data" / "text"
    built_dir = avocado_root / "avocado-1.0.2" / "data" / "text"
    assert sorted(p.name for p in shipped_dir.iterdir()) == sorted(p.name for p in built_dir.iterdir())
    for zip_path in shipped_dir.iterdir():
        with zipfile.ZipFile(zip_path) as shipped, zipfile.ZipFile(built_dir / zip_path.name) as built:
            assert shipped.namelist() == built.namelist()
            assert all(shipped.read(n) == built.read(n) for n in shipped.namelist())


def test_samples_build_lamp6_from_samples_avocado():
    refs: dict = {}
    for kind in ("user", "time"):
        for split in SPLITS:
            path = SAMPLES / "lamp" / lamp_raw_path(LAMP6, kind, split, "questions")
            avocado.email_references(json.loads(path.read_text()), file=path, refs=refs)
    emails = avocado.read_emails(SAMPLES / "avocado", refs, progress=False)
    path = SAMPLES / "lamp" / lamp_raw_path(LAMP6, "user", "dev", "questions")
    (record,) = avocado.lamp6_records(json.loads(path.read_text()), emails, file=path)
    assert record["output"] == "Knowledge base cleanup"
    assert record["profile"][1]["title"] == "Møde i København – agenda"
