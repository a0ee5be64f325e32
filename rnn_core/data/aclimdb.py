"""Reading the Large Movie Review Dataset (aclImdb) from its folder or straight from the .tar.gz, tokenizing it
once, and caching the result as a plain .npz (no pickle) keyed by the source's size, mtime and tokenizer.

The cached corpus keeps each review as frequency ranks over the training words, so any ``num_words`` is a
cheap re-mapping at load time.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import tarfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from .text import Tokenizer, rank_words

LABELS = ("neg", "pos")
SPLITS = ("train", "test")
CACHE_FORMAT = 1
# aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt (train/unsup and the .feat files are skipped)
_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


@dataclass
class Review:
    split: str
    label: int  # 0 = neg, 1 = pos
    review_id: int
    rating: int  # the star rating in the file name (1-4 negative, 7-10 positive)
    text: str


def iter_reviews(source: str | os.PathLike) -> Iterator[Review]:
    """Every labeled review in ``source``: an ``aclImdb`` folder (or a folder holding one) or a .tar.gz of it,
    read member by member without unpacking to disk. Order is the archive's or the folder's."""
    source = Path(source)
    if source.is_dir():
        root = source if (source / "train").is_dir() or (source / "test").is_dir() else source / "aclImdb"
        for split in SPLITS:
            for name in LABELS:
                folder = root / split / name
                if not folder.is_dir():
                    continue
                for entry in os.scandir(folder):
                    m = _MEMBER.search(f"aclImdb/{split}/{name}/{entry.name}")
                    if m and entry.is_file():
                        with open(entry.path, "rb") as f:
                            yield _review(m, f.read())
        return
    try:
        with tarfile.open(source, "r|gz") as archive:  # streaming: one pass, nothing written to disk
            for member in archive:
                m = _MEMBER.search(member.name)
                if m and member.isfile():
                    data = archive.extractfile(member)
                    if data is not None:
                        yield _review(m, data.read())
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise ValueError(
            f"{source} is not a readable aclImdb .tar.gz ({type(exc).__name__}: {exc}). It may be damaged or "
            f"incomplete: delete it and download it again (or unpack it into an 'aclImdb' folder beside it)."
        ) from exc


def _review(m: re.Match, raw: bytes) -> Review:
    split, name, rid, rating = m.groups()
    return Review(split, LABELS.index(name), int(rid), int(rating), raw.decode("utf-8", errors="replace"))


def fingerprint(source: str | os.PathLike) -> dict:
    """What identifies a source's content cheaply: size and mtime of an archive; file count, total size and
    newest mtime of a folder's reviews."""
    source = Path(source)
    if not source.is_dir():
        st = source.stat()
        return {"name": source.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    count = size = newest = 0
    root = source if (source / "train").is_dir() or (source / "test").is_dir() else source / "aclImdb"
    for split in SPLITS:
        for name in LABELS:
            folder = root / split / name
            if folder.is_dir():
                for entry in os.scandir(folder):
                    st = entry.stat()
                    count, size, newest = count + 1, size + st.st_size, max(newest, st.st_mtime_ns)
    return {"name": source.name, "files": count, "size": size, "mtime_ns": newest}


@dataclass
class SplitArrays:
    """One split of the corpus as flat arrays: review ``i`` is ``ranks[offsets[i]:offsets[i+1]]``."""

    ranks: np.ndarray  # uint32 [tokens]: 1-based frequency rank over train words, 0 = never seen in train
    offsets: np.ndarray  # int64 [n + 1]
    labels: np.ndarray  # int64 [n]: 0 neg, 1 pos
    review_ids: np.ndarray  # int64 [n]
    ratings: np.ndarray  # int64 [n]
    text: np.ndarray  # uint8 [bytes]: every review's UTF-8 text, back to back
    text_offsets: np.ndarray  # int64 [n + 1]

    def __len__(self) -> int:
        return len(self.labels)

    def text_of(self, i: int) -> str:
        return self.text[self.text_offsets[i] : self.text_offsets[i + 1]].tobytes().decode("utf-8")


@dataclass
class Corpus:
    train: SplitArrays
    test: SplitArrays
    words: list[str]  # training words, most frequent first (rank r is words[r - 1])
    counts: np.ndarray  # int64 [len(words)]
    parse_seconds: float = 0.0  # time the tokenizing pass took (0 when read from a cache)
    from_cache: bool = False


def _pack(reviews: list[Review], token_lists: list[list[str]], rank_of: dict[str, int]) -> SplitArrays:
    get = rank_of.get
    lengths = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=len(token_lists))
    ranks = np.fromiter((get(w, 0) for toks in token_lists for w in toks), dtype=np.uint32, count=int(lengths.sum()))
    raw = [r.text.encode("utf-8") for r in reviews]
    text_lengths = np.fromiter((len(b) for b in raw), dtype=np.int64, count=len(raw))
    return SplitArrays(
        ranks=ranks,
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        labels=np.array([r.label for r in reviews], dtype=np.int64),
        review_ids=np.array([r.review_id for r in reviews], dtype=np.int64),
        ratings=np.array([r.rating for r in reviews], dtype=np.int64),
        text=np.frombuffer(b"".join(raw), dtype=np.uint8),
        text_offsets=np.concatenate([[0], np.cumsum(text_lengths)]).astype(np.int64),
    )


def parse_corpus(source: str | os.PathLike, tokenizer: Tokenizer) -> Corpus:
    """Read and tokenize every labeled review. Reviews are put in a fixed order (label, then id) so a folder
    and an archive of the same files give identical arrays; words are ranked over the training split only."""
    start = time.perf_counter()
    by_split: dict[str, list[Review]] = {s: [] for s in SPLITS}
    for review in iter_reviews(source):
        by_split[review.split].append(review)
    for split in SPLITS:
        by_split[split].sort(key=lambda r: (r.label, r.review_id))
    if not by_split["train"] or not by_split["test"]:
        raise ValueError(f"{source} holds no aclImdb/train and aclImdb/test reviews "
                         f"(found {len(by_split['train'])} and {len(by_split['test'])}); is it the IMDB dataset?")
    tokens = {s: [tokenizer(r.text) for r in by_split[s]] for s in SPLITS}
    words, counts = rank_words(tokens["train"])
    rank_of = {w: i + 1 for i, w in enumerate(words)}
    packed = {s: _pack(by_split[s], tokens[s], rank_of) for s in SPLITS}
    return Corpus(packed["train"], packed["test"], words, np.asarray(counts, dtype=np.int64),
                  parse_seconds=time.perf_counter() - start)


# -------------------------------------------------------------------------------------------- cache
def cache_key(source: str | os.PathLike, tokenizer: Tokenizer) -> dict:
    return {"format": CACHE_FORMAT, "source": fingerprint(source), "tokenizer": tokenizer.to_dict()}


def cache_path(folder: Path, key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    return folder / f"imdb-{digest}.npz"


def _blob(s: str) -> np.ndarray:
    return np.frombuffer(s.encode("utf-8"), dtype=np.uint8)


def save_corpus(path: Path, corpus: Corpus, key: dict) -> None:
    """Write atomically so a reader never sees half a cache."""
    arrays = {"key": _blob(json.dumps(key, sort_keys=True)), "words": _blob("\n".join(corpus.words)),
              "counts": corpus.counts}
    for split in SPLITS:
        for name, value in vars(getattr(corpus, split)).items():
            arrays[f"{split}.{name}"] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, allow_pickle=False, **arrays)  # an open file: np.savez would add ".npz" to a bare temporary name


def read_corpus(path: Path, key: dict) -> Corpus | None:
    """The cached corpus, or None when the file is missing, for another key, or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if json.loads(z["key"].tobytes().decode()) != json.loads(json.dumps(key, sort_keys=True)):
                return None
            splits = {
                split: SplitArrays(**{name: z[f"{split}.{name}"] for name in SplitArrays.__dataclass_fields__})
                for split in SPLITS
            }
            words_blob = z["words"].tobytes().decode("utf-8")
            return Corpus(splits["train"], splits["test"], words_blob.split("\n") if words_blob else [],
                          z["counts"], from_cache=True)
    except (OSError, ValueError, KeyError, zlib.error):
        return None


def load_corpus(source: str | os.PathLike, tokenizer: Tokenizer, cache_folder: str | os.PathLike | None) -> Corpus:
    """The tokenized corpus of ``source``: from this process's memory, else the .npz cache in
    ``cache_folder``, else parsed (and then cached; a cache that cannot be written is only skipped)."""
    key = cache_key(source, tokenizer)
    return _load_corpus_cached(str(Path(source).resolve()), json.dumps(key, sort_keys=True),
                               None if cache_folder is None else str(cache_folder))


@functools.lru_cache(maxsize=2)
def _load_corpus_cached(source: str, key_json: str, cache_folder: str | None) -> Corpus:
    key = json.loads(key_json)
    tokenizer = Tokenizer.from_dict(key["tokenizer"])
    path = cache_path(Path(cache_folder), key) if cache_folder else None
    if path is not None and path.is_file():
        corpus = read_corpus(path, key)
        if corpus is not None:
            return _frozen(corpus)
    corpus = parse_corpus(source, tokenizer)
    if path is not None:
        with contextlib.suppress(OSError):  # a read-only or full disk only costs the next load a re-parse
            save_corpus(path, corpus, key)
    return _frozen(corpus)


def _frozen(corpus: Corpus) -> Corpus:
    # Shared between callers through the lru cache: make accidental in-place edits fail loudly.
    for split in SPLITS:
        for value in vars(getattr(corpus, split)).values():
            value.flags.writeable = False
    corpus.counts.flags.writeable = False
    return corpus


def clear_memory_cache() -> None:
    """Forget corpora held in this process (the .npz caches on disk stay)."""
    _load_corpus_cached.cache_clear()
