"""Write the tiny synthetic Avocado sample and the LaMP-6 id files that refer to it (stdlib only, deterministic).

The real corpus (LDC2015T03) ships ``avocado-1.0.2/data/text/<custodian>.zip``; each zip holds
``<custodian>/<custodian>-<item>-EM.txt`` email files (RFC 822 headers, then the body) beside attachment text.
Every person, company and message here is made up.

    python samples/make_avocado_sample.py                      # rewrites samples/avocado and samples/lamp/**/LaMP_6
    python samples/make_avocado_sample.py --avocado-out DIR --lamp-out DIR
"""

from __future__ import annotations

import argparse
import base64
import json
import quopri
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ZIP_DATE = (2015, 2, 16, 0, 0, 0)
DOMAIN = "avocado.example"

PEOPLE = {
    "001": ("Karen Whitfield", "kwhitfield"),
    "002": ("Marcus Oyelaran", "moyelaran"),
    "003": ("Ingrid Sørensen", "isorensen"),
    "004": ("Tom Brackett", "tbrackett"),
}
COLLEAGUES = ("Priya Raman <praman@avocado.example>", "Sales Team <sales@avocado.example>",
              "Dan Kessler <dkessler@avocado.example>", "Leads <leads@avocado.example>")


def _plain(body: str, charset: str = "us-ascii") -> str:
    cte = "7bit" if charset == "us-ascii" else "8bit"
    return f"MIME-Version: 1.0\nContent-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n{body}"


def _alternative(body: str, html: str) -> str:
    b = "===============1048576123=="
    return (f'MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="{b}"\n\n'
            f"--{b}\nContent-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n{body}\n"
            f"--{b}\nContent-Type: text/html; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n{html}\n"
            f"--{b}--\n")


def _with_attachment(body: str, filename: str, attached: str) -> str:
    b = "===============2097152456=="
    encoded = base64.encodebytes(attached.encode("utf-8")).decode("ascii")
    return (f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{b}"\n\n'
            f"--{b}\nContent-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n{body}\n"
            f'--{b}\nContent-Type: text/plain; name="{filename}"\nContent-Transfer-Encoding: base64\n'
            f'Content-Disposition: attachment; filename="{filename}"\n\n{encoded}'
            f"--{b}--\n")


def _quoted_printable(body: str, charset: str) -> str:
    encoded = quopri.encodestring(body.encode(charset)).decode("ascii")
    return (f"MIME-Version: 1.0\nContent-Type: text/plain; charset={charset}\n"
            f"Content-Transfer-Encoding: quoted-printable\n\n{encoded}")


def _base64(body: str) -> str:
    encoded = base64.encodebytes(body.encode("utf-8")).decode("ascii")
    return ("MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
            f"Content-Transfer-Encoding: base64\n\n{encoded}")


#: (custodian, item number, date, recipient index, raw Subject header value, MIME part after the headers).
#: Items 1-6 of each custodian are questions and profiles; item 99 is never referenced.
EMAILS = (
    ("001", 1, (2000, 9, 4, 9, 12, 40), 0, "Q3 pipeline review",
     _plain("Priya,\n\nCan we go through the Q3 pipeline on Thursday? I want to flag the two telecom deals that "
            "slipped and agree on what we tell Dan.\n\nThanks,\nKaren\n")),
    ("001", 2, (2000, 10, 2, 14, 3, 5), 1, "Pricing sheet for the Meridian bid",
     _plain("Team,\n\nThe revised pricing sheet for the Meridian bid is on the share under Sales/Bids. Please use "
            "the new per-seat numbers from now on; the old sheet quoted the 1999 support rates.\n\nKaren\n")),
    ("001", 3, (2000, 11, 13, 8, 47, 19), 2, "Customer visit Tuesday",
     _plain("Dan,\n\nMeridian confirmed the on-site visit for Tuesday at 10. They want a live demo of the sync "
            "server, so could someone from engineering come along?\n\nKaren\n")),
    ("001", 4, (2001, 1, 8, 16, 30, 0), 1, "Kickoff agenda",
     _alternative("Hi all,\n\nAgenda for Monday's sales kickoff:\n1. 2000 results\n2. New territories\n"
                  "3. Q1 targets\n\nKaren\n",
                  "<html><body><p>Hi all,</p><p>Agenda for Monday's sales kickoff:</p><ol><li>2000 results</li>"
                  "<li>New territories</li><li>Q1 targets</li></ol><p>Karen</p></body></html>")),
    ("001", 5, (2001, 2, 20, 11, 5, 51), 0, "Meridian contract signed",
     _plain("Priya,\n\nMeridian signed this morning: 400 seats, two-year support. Thanks for turning the "
            "redlines around so fast.\n\nKaren\n")),
    ("001", 6, (2001, 3, 27, 17, 22, 9), 2, "RE: Forecast for April",
     _plain("Dan,\n\nApril looks light because Harbor Freight pushed to May. Everything else is on track.\n\n"
            "Karen\n\n-----Original Message-----\nFrom: Dan Kessler\nSent: Tuesday, March 27, 2001 3:10 PM\n"
            "To: Karen Whitfield\nSubject: Forecast for April\n\nWhat do we expect to close in April?\n")),
    ("001", 99, (2001, 4, 2, 10, 0, 0), 3, "Lunch order", _plain("Sandwiches are in the kitchen.\n")),
    ("002", 1, (2000, 8, 21, 10, 15, 0), 2, "Build server down",
     _plain("Dan,\n\nThe nightly build box lost a disk overnight. I moved the build to the spare machine; "
            "expect the 2.1 build about two hours late.\n\nMarcus\n")),
    ("002", 2, (2000, 9, 18, 13, 40, 27), 0, "Code review for sync module",
     _plain("Priya,\n\nCould you review the conflict-resolution change in the sync module before Friday? "
            "It touches the record merge path, so a second pair of eyes would help.\n\nMarcus\n")),
    ("002", 3, (2000, 10, 30, 9, 2, 33), 2, "Release notes draft",
     _with_attachment("Dan,\n\nDraft release notes for 2.1 attached. Known issues are at the end.\n\nMarcus\n",
                      "release-notes-2.1.txt", "Avocado Sync 2.1\n- faster first sync\n- fixes calendar dupes\n")),
    ("002", 4, (2000, 12, 5, 15, 55, 14), 1, "Demo for Meridian",
     _plain("Karen,\n\nI can come to the Meridian demo. I will bring the laptop with the 2.1 build and a "
            "backup on CD.\n\nMarcus\n")),
    ("002", 5, (2001, 1, 22, 18, 7, 45), 2, "Schedule slip for the 2.2 release: calendar sync\n needs another week",
     _plain("Dan,\n\nCalendar sync still loses recurring meetings on some handhelds. I would rather slip "
            "2.2 by a week than ship that.\n\nMarcus\n")),
    ("002", 6, (2001, 3, 12, 12, 0, 8), 0, "Interview feedback",
     _plain("Priya,\n\nStrong on C and on debugging; weaker on threading. I would hire for the sync team.\n\n"
            "Marcus\n")),
    ("002", 99, (2001, 3, 30, 9, 0, 0), 3, "Parking", _plain("Lot B is closed on Friday.\n")),
    ("003", 1, (2000, 7, 3, 8, 30, 0), 3, "Support queue this week",
     _plain("Hi,\n\n38 open tickets, 9 of them about the installer on NT4. I have asked engineering for a "
            "patched installer.\n\nIngrid\n")),
    ("003", 2, (2000, 8, 14, 9, 45, 12), 1, "=?utf-8?q?M=C3=B8de_i_K=C3=B8benhavn_=E2=80=93_agenda?=",
     _plain("Hej,\n\nAgenda for mødet i København on Thursday: support hand-over, the Nordic price list and "
            "training dates.\n\nVenlig hilsen\nIngrid Sørensen\n", charset="utf-8")),
    ("003", 3, (2000, 9, 25, 14, 20, 0), 2, "Escalation: Nordbank sync failures",
     _plain("Dan,\n\nNordbank reports failed syncs for 60 users since the weekend. Logs point at the proxy; "
            "I have a call with their IT at 3.\n\nIngrid\n")),
    ("003", 4, (2000, 11, 6, 10, 10, 10), 3, "Holiday rota",
     _plain("Hi all,\n\nThe holiday support rota is on the wiki. Please swap shifts among yourselves and tell "
            "me by Friday.\n\nIngrid\n")),
    ("003", 5, (2000, 12, 18, 16, 0, 0), 0, "Training in Århus",
     _quoted_printable("Priya,\n\nThe partner training in Århus is booked for 15-16 January. Hotel is close to "
                       "the station; I will send details.\n\nIngrid\n", "iso-8859-1")),
    ("003", 6, (2001, 2, 5, 9, 5, 0), 2, "Knowledge base cleanup",
     _plain("Dan,\n\nI archived 120 stale knowledge base articles and merged the installer ones. Search "
            "should find the right answer first now.\n\nIngrid\n")),
    ("004", 1, (2000, 7, 31, 17, 45, 0), 1, "Expense reports due",
     _plain("All,\n\nJuly expense reports are due Friday. Receipts over $25 must be attached.\n\nTom\n")),
    ("004", 2, (2000, 9, 11, 11, 11, 11), 2, "Budget variance August",
     _plain("Dan,\n\nAugust came in 4% over budget, mostly travel for the Meridian bid. Details in the "
            "usual spreadsheet.\n\nTom\n")),
    ("004", 3, (2000, 10, 16, 8, 0, 0), 0, "Signed PO attached", _plain("")),
    ("004", 4, (2000, 11, 27, 13, 30, 30), 2, "Year-end close calendar",
     _plain("Dan,\n\nYear-end close starts 2 January. All invoices must be in by 29 December.\n\nTom\n")),
    ("004", 5, (2001, 1, 15, 10, 45, 0), 1, "Commission statements",
     _base64("Karen,\n\nQ4 commission statements are ready. Please check the Meridian split before I send "
             "them to payroll.\n\nTom\n")),
    ("004", 6, (2001, 3, 5, 9, 30, 0), 2, "Audit fieldwork dates",
     _plain("Dan,\n\nThe auditors will be on site 19-23 March. They need a room and read access to the "
            "ledger.\n\nTom\n")),
    ("004", 99, (2001, 3, 20, 8, 0, 0), 3, "Coffee machine", _plain("It is fixed.\n")),
)

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def basename(custodian: str, number: int) -> str:
    """The Avocado file name of an email, e.g. ``001-000004-EM.txt``."""
    return f"{custodian}-{number:06d}-EM.txt"


def email_text(custodian: str, number: int, date: tuple, to: int, subject: str, mime: str) -> str:
    """One email file: Avocado-style headers (``Date: 04 Sep 2000 09:12:40 UTC``), then the MIME part."""
    name, login = PEOPLE[custodian]
    y, mo, d, h, mi, s = date
    return (f'From: "{name}" <{login}@{DOMAIN}>\nTo: {COLLEAGUES[to]}\nSubject: {subject}\n'
            f"Date: {d:02d} {MONTHS[mo - 1]} {y} {h:02d}:{mi:02d}:{s:02d} UTC\n"
            f"Message-ID: <{custodian}.{number:06d}.{y}{mo:02d}{d:02d}@{DOMAIN}>\n{mime}")


def _info(name: str, *, folder: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, ZIP_DATE)
    info.external_attr = ((0o40755 << 16) | 0x10) if folder else (0o644 << 16)
    info.compress_type = zipfile.ZIP_STORED if folder else zipfile.ZIP_DEFLATED
    return info


def write_avocado(root: Path) -> Path:
    """Write ``root/avocado-1.0.2/data/text/<custodian>.zip`` and return that text folder."""
    text_dir = Path(root) / "avocado-1.0.2" / "data" / "text"
    text_dir.mkdir(parents=True, exist_ok=True)
    for custodian in PEOPLE:
        members = {f"{custodian}/{basename(custodian, n)}": email_text(custodian, n, *rest)
                   for c, n, *rest in EMAILS if c == custodian}
        members[f"{custodian}/{custodian}-000002-AT-0001.txt"] = "Attachment text extracted from a spreadsheet.\n"
        with zipfile.ZipFile(text_dir / f"{custodian}.zip", "w") as archive:
            archive.writestr(_info(f"{custodian}/", folder=True), b"")
            for name in sorted(members):
                archive.writestr(_info(name), members[name].encode("utf-8"))
    return text_dir


def _item(custodian: str, number: int) -> dict:
    date = next(d for c, n, d, *_ in EMAILS if (c, n) == (custodian, number))
    return {"text": basename(custodian, number), "id": f"6{custodian}{number:03d}",
            "date": f"{date[0]:04d}-{date[1]:02d}-{date[2]:02d}"}


def _question(qid: str, custodian: str, target: int, user_id: str | None = None) -> dict:
    question = {"id": qid, "input": basename(custodian, target),
                "profile": [_item(custodian, n) for n in range(1, target)]}
    if user_id is not None:
        question["user_id"] = user_id
    return question


def lamp6_questions() -> dict[str, list[dict]]:
    """The LaMP-6 id files, keyed by their path below the LaMP root (as ``lampkit.tasks.lamp_raw_path`` gives).

    User split: one user per question, users disjoint across splits, the user's 6th email is the target. Time
    split: every user in every split; emails 4, 5 and 6 are the train, dev and test targets."""
    users = list(PEOPLE)
    files = {
        "LaMP_6/train/train_questions.json": [_question("600", users[0], 6), _question("601", users[1], 6)],
        "LaMP_6/dev/dev_questions.json": [_question("610", users[2], 6)],
        "LaMP_6/test/test_questions.json": [_question("620", users[3], 6)],
    }
    for split, target, base in (("train", 4, 6000), ("dev", 5, 6100), ("test", 6, 6200)):
        files[f"time/LaMP_6/{split}/{split}_questions.json"] = [
            _question(str(base + i), c, target, user_id=f"6{c}") for i, c in enumerate(users)]
    return files


def write_lamp6_ids(root: Path) -> list[Path]:
    """Write the LaMP-6 id files below ``root`` (plain JSON lists, as ``json.dump`` writes them)."""
    paths = []
    for rel, questions in lamp6_questions().items():
        path = Path(root) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(questions), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--avocado-out", type=Path, default=HERE / "avocado")
    parser.add_argument("--lamp-out", type=Path, default=HERE / "lamp")
    args = parser.parse_args()
    print(write_avocado(args.avocado_out))
    for path in write_lamp6_ids(args.lamp_out):
        print(path)


if __name__ == "__main__":
    main()
