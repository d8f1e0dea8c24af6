"""Avocado (LDC2015T03) emails for LaMP-6 and LongLaMP email completion, read straight from the corpus zips.

The official ``LaMP-Benchmark/LaMP:data/avocado/create_avocado_dataset.py`` extracts every zip, keeps the files one
folder deep (``*/*``) whose basename a question names, and parses them with mail-parser 3.15.0. This module reads
only those members from the zips (no extraction) and parses them with the standard library's ``email`` package,
mirroring mail-parser's ``subject`` and ``body``; the differences are listed in ``docs/avocado.md``.

>>> mail = parse_email(b"Subject: =?utf-8?q?Caf=C3=A9?=\\n\\n  Lunch at noon?\\n")
>>> mail
Email(subject='Café', body='Lunch at noon?')
>>> record = lamp6_record({"id": "600", "input": "a.txt", "profile": [{"id": "1", "text": "a.txt"}]},
...                       {"a.txt": mail})
>>> record["input"], record["output"]
('Generate a subject for the following email: Lunch at noon?', 'Café')
>>> record["profile"]
[{'id': '1', 'text': 'Lunch at noon?', 'title': 'Café'}]
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.message
import zipfile
import zlib
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from .errors import LampkitError
from .tasks import LAMP6_INPUT
from .tasks import LONGLAMP_EMAIL_INPUT

#: mail-parser 3.15.0 joins the text parts of a multipart email with this line (``MailParser.body``).
PART_SEPARATOR = "\n--- mail_boundary ---\n"

LDC_HINT = ("the Avocado Research Email Collection is licensed from the LDC (catalogue LDC2015T03, "
            "https://catalog.ldc.upenn.edu/LDC2015T03); pass its avocado-1.0.2/data/text folder of zips "
            "(or the Avocado root that holds it) as --avocado-dir")

#: Where the folder of zips sits below the paths users tend to pass (LDC delivery, corpus root, its parent).
_TEXT_DIR_CANDIDATES = (
    (),
    ("data", "text"),
    ("avocado-1.0.2", "data", "text"),
    ("Data", "avocado-1.0.2", "data", "text"),
    ("LDC2015T03", "Data", "avocado-1.0.2", "data", "text"),
)

@dataclass(frozen=True)
class Email:
    """One parsed Avocado email: the decoded subject and the stripped text body."""

    subject: str
    body: str


@dataclass(frozen=True)
class EmailRef:
    """The first place a question file names an email basename, for error messages."""

    file: object
    record: object
    field: str


def parse_email(data: bytes) -> Email:
    """Parse one RFC 822 email file as mail-parser 3.15.0 (``subject``, ``body.strip()``) did for LaMP-6.

    The bytes are read as UTF-8 text, dropping invalid bytes, with universal newlines, and parsed with the
    standard library's ``email`` package (compat32 policy, as mail-parser). Subject: the first ``Subject`` header,
    RFC 2047 words decoded, stripped; folding newlines kept, as mail-parser. Body: the text of the non-attachment
    leaf parts, text/plain first, then text/html, then other types, joined by :data:`PART_SEPARATOR`, stripped.
    A file without any header gives an empty email, as in mail-parser.
    """
    text = data.decode("utf-8", errors="ignore").replace("\r\n", "\n").replace("\r", "\n")
    message = email.message_from_string(text)
    if not message.keys():
        return Email(subject="", body="")
    subject = _decode_header((message.get_all("subject") or [""])[0])
    plain, html, other = [], [], []
    for part in message.walk():
        if part.is_multipart() or _is_attachment(part):
            continue
        content = _part_text(part)
        if content:
            subtype = part.get_content_subtype()
            (plain if subtype == "plain" else html if subtype == "html" else other).append(content)
    return Email(subject=subject, body=PART_SEPARATOR.join(plain + html + other).strip())


def _to_text(raw: bytes | str, charset: str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return raw.decode("utf-8", errors="ignore")


def _decode_header(raw: str) -> str:
    try:
        chunks = email.header.decode_header(raw)
    except email.errors.HeaderParseError:
        return raw.strip()
    return "".join(_to_text(chunk, charset or "utf-8") for chunk, charset in chunks).strip()


def _is_attachment(part: email.message.Message) -> bool:
    # mail-parser 3.15.0: a filename, a Content-ID on a non-text part, or an RTF part makes an attachment.
    if _decode_header(part.get_filename() or ""):
        return True
    subtype = part.get_content_subtype()
    return (bool(part.get("content-id")) and subtype not in ("html", "plain")) or subtype == "rtf"


def _part_text(part: email.message.Message) -> str:
    cte = part.get("content-transfer-encoding")
    if not cte or cte.lower() in ("7bit", "8bit"):
        # mail-parser round-trips these through raw-unicode-escape, so a literal \uXXXX in the text becomes that
        # character (and a malformed one made it crash; such text is kept as is here).
        text = part.get_payload()
        try:
            return text.encode("raw-unicode-escape").decode("raw-unicode-escape")
        except UnicodeDecodeError:
            return text
    return _to_text(part.get_payload(decode=True) or b"", part.get_content_charset("utf-8"))


def find_text_dir(avocado_dir: str | Path | None) -> Path:
    """The folder of Avocado zips: ``avocado_dir`` itself, or ``avocado-1.0.2/data/text`` found below it."""
    if avocado_dir is None:
        raise LampkitError(f"LaMP-6 and LongLaMP email need the Avocado emails: {LDC_HINT}", field="avocado_dir")
    root = Path(avocado_dir)
    if not root.is_dir():
        raise LampkitError(f"Avocado folder not found: {LDC_HINT}", file=root)
    for parts in _TEXT_DIR_CANDIDATES:
        candidate = root.joinpath(*parts)
        if candidate.is_dir() and any(_zip_paths(candidate)):
            return candidate
    raise LampkitError(f"no Avocado zips here nor in avocado-1.0.2/data/text below it: {LDC_HINT}", file=root)


def _zip_paths(text_dir: Path) -> list[Path]:
    return sorted(p for p in text_dir.iterdir() if p.suffix.lower() == ".zip" and p.is_file())


def _member_basename(info: zipfile.ZipInfo) -> str | None:
    # The official script globbed ``*/*`` after extraction: files exactly one folder deep, no hidden names.
    parts = info.filename.split("/")
    if info.is_dir() or len(parts) != 2 or any(not p or p.startswith(".") for p in parts):
        return None
    return parts[1]


def read_emails(avocado_dir: str | Path | None, basenames: Iterable[str], *, progress: bool = True,
                where: Callable[[str], EmailRef | None] | None = None) -> dict[str, Email]:
    """Read and parse the emails named by ``basenames`` (e.g. ``001-000012-EM.txt``) from the Avocado zips.

    ``avocado_dir`` is the ``avocado-1.0.2/data/text`` folder of zips or a folder above it. Only the central
    directory of each zip and the wanted members are read; zips are scanned in name order, the first member with a
    wanted basename wins, and scanning stops once all are found. ``where(basename)`` names the question that
    referenced an email for the error raised when it is in no zip; it defaults to ``basenames.get`` when
    ``basenames`` is a mapping such as :func:`email_references` returns.
    """
    wanted = list(dict.fromkeys(basenames))
    if where is None and isinstance(basenames, Mapping):
        where = basenames.get
    text_dir = find_text_dir(avocado_dir)
    remaining = set(wanted)
    emails: dict[str, Email] = {}
    zips = _zip_paths(text_dir)
    with tqdm(zips, desc="Avocado zips", unit="zip", disable=not progress) as bar:
        for zip_path in bar:
            if not remaining:
                break
            _read_zip(zip_path, remaining, emails)
    missing = [name for name in wanted if name in remaining]
    if missing:
        ref = where(missing[0]) if where else None
        more = f" ({len(missing) - 1} more missing)" if len(missing) > 1 else ""
        message = (f"Avocado email {missing[0]!r} is in none of the {len(zips)} zips in {text_dir} "
                   f"(looked for <folder>/{missing[0]} members){more}")
        if ref is None:
            raise LampkitError(message)
        raise LampkitError(message, file=ref.file, record=ref.record, field=ref.field)
    return emails


def _read_zip(zip_path: Path, remaining: set[str], emails: dict[str, Email]) -> None:
    member = None
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for info in archive.infolist():
                name = _member_basename(info)
                if name in remaining:
                    member = info.filename
                    emails[name] = parse_email(archive.read(info))
                    remaining.discard(name)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as err:
        raise LampkitError(f"unreadable Avocado zip ({err})", file=zip_path,
                           record=member) from None


def email_references(questions: Iterable[dict], *, file: object = None,
                     refs: dict[str, EmailRef] | None = None) -> dict[str, EmailRef]:
    """Map every email basename that LaMP-6 or LongLaMP email questions name (``input`` and each
    ``profile[i].text``) to the first place it is named; pass ``refs`` to collect across several files."""
    refs = {} if refs is None else refs
    for index, question in enumerate(questions):
        record = question.get("id", f"#{index}") if isinstance(question, dict) else f"#{index}"
        for field, name in _email_fields(question, file=file, record=record):
            refs.setdefault(name, EmailRef(file, record, field))
    return refs


def _email_fields(question: object, *, file: object, record: object) -> Iterator[tuple[str, str]]:
    if not isinstance(question, dict):
        raise LampkitError("expected a JSON object", file=file, record=record)
    yield "input", _basename(question.get("input"), file=file, record=record, field="input")
    profile = question.get("profile")
    if not isinstance(profile, list):
        raise LampkitError("expected a list of profile items", file=file, record=record, field="profile")
    for i, item in enumerate(profile):
        field = f"profile[{i}].text"
        if not isinstance(item, dict):
            raise LampkitError("expected a JSON object", file=file, record=record, field=f"profile[{i}]")
        yield field, _basename(item.get("text"), file=file, record=record, field=field)


def _basename(value: object, *, file: object, record: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LampkitError(f"expected an Avocado email basename, got {value!r}", file=file, record=record,
                           field=field)
    return value


def _resolve(question: object, emails: Mapping[str, Email], *, file: object) -> tuple[object, Email, list[dict]]:
    """(id, the question's email, its profile items with ``text`` = body and ``title`` = subject)."""
    record = question.get("id") if isinstance(question, dict) else None
    found = {field: _lookup(name, emails, file=file, record=record, field=field)
             for field, name in _email_fields(question, file=file, record=record)}
    profile = [{**item, "text": found[f"profile[{i}].text"].body, "title": found[f"profile[{i}].text"].subject}
               for i, item in enumerate(question["profile"])]
    return record, found["input"], profile


def _lookup(name: str, emails: Mapping[str, Email], *, file: object, record: object, field: str) -> Email:
    found = emails.get(name)
    if found is None:
        raise LampkitError(f"Avocado email {name!r} was not read", file=file, record=record, field=field)
    return found


def lamp6_record(question: dict, emails: Mapping[str, Email], *, file: object = None) -> dict:
    """One LaMP-6 question with its Avocado basenames replaced, as ``create_avocado_dataset`` wrote it: input =
    :data:`~lampkit.tasks.LAMP6_INPUT` on the body, output = subject, item ``text`` = body and ``title`` = subject
    (other item keys kept), ``user_id`` kept when present. The official script wrote no test outputs."""
    record, target, profile = _resolve(question, emails, file=file)
    out = {"id": record, "input": LAMP6_INPUT.format(body=target.body), "output": target.subject,
           "profile": profile}
    if "user_id" in question:
        out["user_id"] = question["user_id"]
    return out


def lamp6_records(questions: Iterable[dict], emails: Mapping[str, Email], *, file: object = None
                  ) -> Iterator[dict]:
    """:func:`lamp6_record` for every question."""
    for question in questions:
        yield lamp6_record(question, emails, file=file)


def longlamp_email_record(question: dict, emails: Mapping[str, Email], *, file: object = None) -> dict:
    """One LongLaMP email-completion question, as LongLaMP's ``create_avocado_dataset`` built it: the body is split
    on whitespace; input = :data:`~lampkit.tasks.LONGLAMP_EMAIL_INPUT` on the subject and the first
    ``content_length`` words joined by single spaces, output = the remaining words so joined; profile items as in
    :func:`lamp6_record`; ``content_length`` dropped, ``user_id`` kept when present."""
    record, target, profile = _resolve(question, emails, file=file)
    length = question.get("content_length")
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise LampkitError(f"expected a non-negative integer, got {length!r}", file=file, record=record,
                           field="content_length")
    words = target.body.split()
    out = {"id": record,
           "input": LONGLAMP_EMAIL_INPUT.format(subject=target.subject, prefix=" ".join(words[:length])),
           "output": " ".join(words[length:]),
           "profile": profile}
    if "user_id" in question:
        out["user_id"] = question["user_id"]
    return out
