"""JSON and text that users hand over: each way ``json.loads`` fails, and text that is not Unicode (a lone
surrogate from a ``\\ud800`` escape, which no file can hold as UTF-8), become one LampkitError naming the file."""

from __future__ import annotations

import json
import sys

from lampkit.errors import LampkitError


def parse_json(text: str, source: object, *, unique_keys: bool = False) -> object:
    """``json.loads(text)``; ``unique_keys`` refuses a key given twice in one object (JSON keeps the last).

    >>> parse_json('{"1": "u1", "1": "u2"}', "users.json", unique_keys=True)
    Traceback (most recent call last):
    ...
    lampkit.errors.LampkitError: users.json: record 1: given twice in one JSON object
    >>> parse_json("[" * 100_000, "deep.json")
    Traceback (most recent call last):
    ...
    lampkit.errors.LampkitError: deep.json: not readable JSON: nested too deeply
    """
    def unique(pairs: list[tuple[str, object]]) -> dict:
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise LampkitError("given twice in one JSON object", file=source, record=key)
            seen.add(key)
        return dict(pairs)

    try:
        return json.loads(text, object_pairs_hook=unique if unique_keys else None)
    except json.JSONDecodeError as e:
        raise LampkitError(f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}", file=source) from None
    except RecursionError:
        raise LampkitError("not readable JSON: nested too deeply", file=source) from None
    except ValueError:  # the only other failure: an integer past Python's digit limit
        raise LampkitError(f"not readable JSON: holds an integer of more than {sys.get_int_max_str_digits()} "
                           "digits", file=source) from None


def check_unicode(text: str, *, file: object = None, record: object = None, field: str | None = None) -> None:
    """Refuse a string that UTF-8 cannot encode.

    >>> check_unicode("caf\\u00e9")
    >>> check_unicode("a \\ud800 b", record=1, field="id")
    Traceback (most recent call last):
    ...
    lampkit.errors.LampkitError: record 1: field 'id': not Unicode text: a lone surrogate \\ud800 at character 2
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise LampkitError(f"not Unicode text: a lone surrogate \\u{ord(text[e.start]):04x} at character {e.start}",
                           file=file, record=record, field=field) from None
