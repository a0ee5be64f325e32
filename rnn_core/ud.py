"""Universal Dependencies English-EWT: where its CoNLL-U files come from, a reader that keeps each
sentence's words and UPOS tags, and a tokenizer that splits typed text the way EWT splits words.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import conllu

from .data.fetch import Progress, RemoteFile

UD_RELEASE = "r2.16"  # git tag of UniversalDependencies/UD_English-EWT the checksums below belong to
UD_BASE_URL = f"https://raw.githubusercontent.com/UniversalDependencies/UD_English-EWT/{UD_RELEASE}"
UD_SUBDIR = "ud_english_ewt"
SPLITS = ("train", "dev", "test")
# Size and SHA-256 of the workplace copy (../shared/data/ud_english_ewt). Its README's changelog ends with
# v2.16 (2025-05-15) while its title line still reads v2.15, as the release's README does; these figures
# were not compared with GitHub from here (no network), so a mismatch on download means a different release.
_FILES = {
    "train": (14_203_025, "3fb78e2b55482c8ee00caa653af436c88c9e5bc9a73ce26e4ae3ddc79d2b7e7b"),
    "dev": (1_805_545, "531a54ff90d6ab12201c5a50c3e78e6ddac4de69abc4bce5d275d3cd29efe2b6"),
    "test": (1_804_515, "e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd"),
}
# The 17 universal part-of-speech tags, in the UD documentation's order (the model's output order).
UPOS_TAGS = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
    "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
)


def ewt_file(split: str, base_url: str = UD_BASE_URL) -> RemoteFile:
    """The official file of one split (``train``, ``dev`` or ``test``) at the pinned release."""
    if split not in _FILES:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    size, sha = _FILES[split]
    name = f"en_ewt-ud-{split}.conllu"
    return RemoteFile(name=name, url=f"{base_url}/{name}", checksum=sha, size=size, subdir=UD_SUBDIR)


def ensure_ewt(split: str, data_dir: str | os.PathLike | None = None, download_ok: bool = True,
               progress: Progress | None = None, base_url: str = UD_BASE_URL) -> Path:
    """Path to a split's CoNLL-U file: the copy in ``<data dir>/ud_english_ewt/``, else downloaded there
    (progress bar, size + SHA-256 check, atomic rename; see ``rnn_core.data.download``)."""
    return ewt_file(split, base_url).ensure(data_dir, download_ok=download_ok, progress=progress)


@dataclass(frozen=True)
class Sentence:
    """One sentence's syntactic words and their UPOS tags (same length)."""

    words: tuple[str, ...]
    tags: tuple[str, ...]
    sent_id: str = ""
    text: str = ""


def iter_conllu(source: str | os.PathLike | TextIO) -> Iterator[Sentence]:
    """Sentences of a CoNLL-U file (a path, or an open text stream) parsed with ``conllu``.

    Only syntactic words count: multiword-token ranges (id ``3-4``, e.g. "don't" over "do" + "n't") and
    empty nodes (id ``8.1``, enhanced-graph elision) are skipped, as UPOS scoring skips them. A tag
    outside the 17 UPOS tags raises ValueError naming the sentence."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, encoding="utf-8") as fh:
            yield from iter_conllu(fh)
        return
    for tl in conllu.parse_incr(source):
        words, tags = [], []
        for tok in tl:
            if not isinstance(tok["id"], int):  # (3, '-', 4) range or (8, '.', 1) empty node
                continue
            if tok["upos"] not in UPOS_TAGS:
                raise ValueError(f"sentence {tl.metadata.get('sent_id', '?')}: {tok['upos']!r} is not a UPOS tag")
            words.append(str(tok["form"]))
            tags.append(str(tok["upos"]))
        if words:
            yield Sentence(tuple(words), tuple(tags), tl.metadata.get("sent_id", ""), tl.metadata.get("text", ""))


def read_conllu(source: str | os.PathLike | TextIO) -> list[Sentence]:
    return list(iter_conllu(source))


_CACHE_VERSION = 1


def load_sentences(path: str | os.PathLike, cache_folder: str | os.PathLike | None = None) -> list[Sentence]:
    """``read_conllu(path)``, remembered: in this process, and as JSON in ``cache_folder`` keyed by the file's
    name, size and mtime (parsing EWT's training file takes ~10-30 s on a shared CPU; the JSON loads in ~1 s).
    A cache that cannot be written is skipped; a damaged one is ignored and rewritten."""
    st = Path(path).stat()
    return _load_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns,
                        None if cache_folder is None else str(cache_folder))


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, size: int, mtime_ns: int, cache_folder: str | None) -> list[Sentence]:
    key = {"v": _CACHE_VERSION, "name": Path(path).name, "size": size, "mtime_ns": mtime_ns}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    cached = Path(cache_folder) / f"ud_{Path(path).stem}_{digest}.json" if cache_folder else None
    if cached is not None and cached.is_file():
        try:
            data = json.loads(cached.read_text(encoding="utf-8"))
            if data.get("key") == key:
                return [Sentence(tuple(w), tuple(t), i, x) for w, t, i, x in data["sentences"]]
        except (OSError, ValueError, KeyError, TypeError):
            pass  # damaged: parse again below
    sentences = read_conllu(path)
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp")
            rows = [[s.words, s.tags, s.sent_id, s.text] for s in sentences]
            tmp.write_text(json.dumps({"key": key, "sentences": rows}), encoding="utf-8")
            os.replace(tmp, cached)  # a reader never sees half a cache
        except OSError:
            pass
    return sentences


# Typed text → EWT-style words: URLs, e-mail addresses and numbers stay whole; punctuation marks are words
# of their own; clitics split off as EWT splits them ("don't" → "do" "n't", "it's" → "it" "'s").
_TOKEN = re.compile(
    r"(?:https?://|www\.)\S+?(?=[.,;:!?)\]]*(?:\s|$))"  # URL, without trailing punctuation
    r"|[\w.+-]+@[\w-]+\.[\w.-]*\w"  # e-mail address
    r"|(?:[A-Za-z]\.){2,}"  # abbreviations: e.g., U.S.
    r"|\d+(?:[.,:/]\d+)*"  # 3.14, 1,000, 10:30, 29/11
    r"|\w+(?:[-'’]\w+)*"  # words, hyphenated words, words with apostrophes
    r"|\.\.\.|--|[^\w\s]"  # ellipsis, dash, any other single symbol
)
_CLITIC = re.compile(r"^(.+?)(n['’]t|['’](?:s|re|ve|ll|d|m))$", re.IGNORECASE)


def tokenize(text: str) -> list[str]:
    """Split typed text into EWT-style words (see the regular expression above)."""
    out: list[str] = []
    for tok in _TOKEN.findall(text):
        m = _CLITIC.match(tok)
        if m and m.group(1):
            out += [m.group(1), m.group(2)]
        else:
            out.append(tok)
    return out
