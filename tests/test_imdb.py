"""IMDB: Keras's tokenizer / vocabulary / padding semantics on hand-worked examples, the aclImdb reader (folder
and .tar.gz alike), the parse cache, typed-review encoding, presets, and the real 25k / 25k dataset."""

from __future__ import annotations

import hashlib
import json
import os
import random
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from localhttp import serve

from rnn_core import build_model
from rnn_core.data import DownloadError, RemoteFile, aclimdb
from rnn_core.data.text import OOV, START, Tokenizer, Vocab, rank_words
from rnn_core.tasks import get_task
from rnn_core.tasks import imdb as imdb_mod

POS_WORDS = ["great", "wonderful", "loved", "superb", "moving"]
NEG_WORDS = ["awful", "boring", "worst", "waste", "dull"]
COMMON = ["the", "movie", "was", "a", "and", "plot", "acting", "it", "don't", "film"]


def make_aclimdb(parent: Path, per_class: int = 6, seed: int = 0) -> Path:
    """A small aclImdb folder with the official layout, plus files the reader must skip."""
    rng = random.Random(seed)
    root = parent / "aclImdb"
    for split in ("train", "test"):
        for label, extra in (("pos", POS_WORDS), ("neg", NEG_WORDS)):
            folder = root / split / label
            folder.mkdir(parents=True)
            for i in range(per_class):
                rating = rng.choice([7, 8, 9, 10] if label == "pos" else [1, 2, 3, 4])
                words = rng.choices(COMMON + extra, k=rng.randint(3, 14))
                text = f"{' '.join(words).capitalize()}!<br /><br />Really, {rng.choice(extra)}. 😀"
                (folder / f"{i * 7 + 3}_{rating}.txt").write_text(text, encoding="utf-8")
    (root / "train" / "unsup").mkdir()
    (root / "train" / "unsup" / "0_0.txt").write_text("unlabeled review, must be skipped")
    (root / "train" / "labeledBow.feat").write_text("0 0:1\n")
    (root / "README").write_text("synthetic")
    (root / "imdb.vocab").write_text("the\nmovie\n")
    return root


def make_tarball(folder: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:gz") as tar:
        tar.add(folder, arcname="aclImdb")
    return dest


@pytest.fixture
def synth(tmp_path, monkeypatch):
    """A data dir holding a synthetic imdb/aclImdb_v1.tar.gz, with its own parse-cache folder."""
    monkeypatch.setenv("UNROLLED_CACHE_DIR", str(tmp_path / "cache"))
    aclimdb.clear_memory_cache()
    folder = make_aclimdb(tmp_path / "unpacked")
    data = tmp_path / "data"
    make_tarball(folder, data / "imdb" / "aclImdb_v1.tar.gz")
    yield data, folder
    aclimdb.clear_memory_cache()


# ---------------------------------------------------------------------------------- Keras semantics
def test_tokenizer_matches_keras_text_to_word_sequence():
    tok = Tokenizer()
    words = ["hello", "world", "it's", "a", "test", "case", "really"]
    assert tok("Hello, World! It's a TEST\tcase\n(really)...") == words
    assert tok("Good.<br /><br />Bad<BR/>ugly<br>end") == ["good", "bad", "ugly", "end"]  # no stray "br" words
    assert tok("") == [] and tok("?!... --") == []
    assert tok("Ünïcode café 😀 película") == ["ünïcode", "café", "😀", "película"]


def vocab_of(texts, num_words):
    """A vocabulary counted over ``texts`` as the corpus reader counts the training reviews."""
    tokenizer = Tokenizer()
    words, counts = rank_words(tokenizer(t) for t in texts)
    return Vocab(words, num_words, tokenizer=tokenizer, counts=counts)


def test_vocab_numbers_words_like_keras_imdb():
    vocab = vocab_of(["the cat sat on the mat", "The dog sat.", "a cat!"], num_words=8)
    # counts: the 3, cat 2, sat 2, then a/dog/mat/on once each, ties alphabetical; ids = rank + 3
    assert vocab.encode_tokens(["the", "cat", "sat", "a"]) == [4, 5, 6, 7]
    assert vocab.words == ["the", "cat", "sat", "a"]  # ids 8 (dog), 9 (mat), 10 (on) are >= num_words
    enc = vocab.encode_text("The dog sat on the mat")
    assert enc.ids == [START, 4, OOV, 6, OOV, 4, OOV] and enc.cut == 0
    assert enc.tokens == ["<start>", "the", "dog", "sat", "on", "the", "mat"]
    assert enc.oov == [False, False, True, False, True, False, True]
    pre = vocab.encode_text("The dog sat on the mat", maxlen=4)  # Keras default: keep the last maxlen
    assert pre.ids == [6, OOV, 4, OOV] and pre.cut == 3 and pre.tokens == ["sat", "on", "the", "mat"]
    post = vocab.encode_text("The dog sat on the mat", maxlen=4, truncating="post")
    assert post.ids == [START, 4, OOV, 6] and post.cut == 3
    assert vocab.decode([0, 1, 2, 3, 4, 5, 99]) == ["<start>", "<oov>", "<unused>", "the", "cat", "<oov>"]
    with pytest.raises(ValueError, match="num_words"):
        vocab_of(["a"], num_words=4)


def test_vocab_round_trips_through_json():
    vocab = vocab_of(["b a a c", "c c d"], num_words=6)
    again = Vocab.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert again.words == vocab.words == ["c", "a"] and again.num_words == 6
    assert again.encode_text("a b c d").ids == vocab.encode_text("a b c d").ids == [1, 5, 2, 4, 2]
    with pytest.raises(ValueError, match="vocabulary"):
        Vocab.from_dict({"words": ["x"]})


def test_right_padding_with_lengths_equals_keras_pre_padding():
    """Keras pads in front so the last step an LSTM reads is a real word; our model is given each sequence's
    length and stops there, so a right-padded batch gives the same answer as each sequence alone (what Keras's
    pre-padding achieves with masking). Tasks therefore store right-padded batches plus lengths."""
    seqs = [[1, 5, 6, 7, 8], [1, 9], [4, 4, 4]]
    model = build_model(get_task("imdb", num_words=20).configs("quick", hidden_size=8)[0], seed=0).eval()
    x = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first=True)  # [3, 5], 0 = padding
    lengths = torch.tensor([len(s) for s in seqs])
    with torch.no_grad():
        batched = model(x, lengths)  # [3, 2]
        alone = torch.cat([model(torch.tensor([s])) for s in seqs])  # [3, 2]
    torch.testing.assert_close(batched, alone)


# ----------------------------------------------------------------------------------- reading aclImdb
def test_folder_and_tarball_parse_identically(tmp_path):
    folder = make_aclimdb(tmp_path)
    tar = make_tarball(folder, tmp_path / "x.tar.gz")
    a, b = aclimdb.parse_corpus(folder, Tokenizer()), aclimdb.parse_corpus(tar, Tokenizer())
    assert a.words == b.words and np.array_equal(a.counts, b.counts)
    for split in ("train", "test"):
        sa, sb = getattr(a, split), getattr(b, split)
        assert len(sa) == 12  # 6 pos + 6 neg; unsup, .feat, README skipped
        for name in aclimdb.SplitArrays.__dataclass_fields__:
            assert np.array_equal(getattr(sa, name), getattr(sb, name)), (split, name)
    # The parent folder of aclImdb/ works too.
    assert aclimdb.parse_corpus(tmp_path, Tokenizer()).words == a.words
    assert "unlabeled" not in a.words and "br" not in a.words


def test_load_stores_right_padded_rows_that_match_typed_encoding(synth):
    data, _ = synth
    task = get_task("imdb", num_words=12, maxlen=6)
    splits = task.load(data_dir=str(data))
    assert (len(splits.train), len(splits.test)) == (12, 12) and splits.val is splits.test
    assert splits.train.y.sum() == 6 and splits.test.y.sum() == 6
    for part in (splits.train, splits.test):
        for i in range(len(part)):
            n = int(part.lengths[i])
            assert 1 <= n <= 6 and (part.x[i, :n] > 0).all() and (part.x[i, n:] == 0).all()
        assert int(part.x.max()) < 12
    # A test review, typed into the page, encodes to exactly its stored row (same words, same cut).
    for i, text in enumerate(splits.test.meta["text"]):
        enc = task.encode_text(text)
        n = int(splits.test.lengths[i])
        assert splits.test.x[i, :n].tolist() == enc.ids and splits.test.meta["cut"][i] == enc.cut
        assert task.step_labels(splits.test, i) == enc.tokens
    assert any(c > 0 for c in splits.test.meta["cut"])
    assert all(r >= 7 for r, y in zip(splits.test.meta["rating"], splits.test.y.tolist()) if y == 1)
    # "post" truncation keeps the start id and the first words.
    post = get_task("imdb", num_words=12, maxlen=6, truncating="post").load(data_dir=str(data))
    assert (post.test.x[:, 0] == START).all()


def test_limit_is_balanced_and_seeded(synth):
    data, _ = synth
    task = get_task("imdb", num_words=30)
    a = task.load(data_dir=str(data), limit=4, seed=1)
    b = task.load(data_dir=str(data), limit=4, seed=1)
    assert len(a.train) == 4 and int(a.train.y.sum()) == 2
    assert torch.equal(a.train.x, b.train.x)
    assert len(task.load(data_dir=str(data), limit=5).train) == 5
    assert len(a.test) == 12  # limit trims training only


def test_parse_cache_hit_invalidation_and_damage(synth):
    data, _ = synth
    cache = Path(os.environ["UNROLLED_CACHE_DIR"])
    task = get_task("imdb", num_words=30)
    first = task.load(data_dir=str(data))
    assert task.load_info["from_cache"] is False
    files = list(cache.glob("imdb-*.npz"))
    assert len(files) == 1
    assert get_task("imdb", num_words=30).load(data_dir=str(data)).train.x.data_ptr() != first.train.x.data_ptr()
    aclimdb.clear_memory_cache()  # a new process: the .npz is read instead of the archive
    second = task.load(data_dir=str(data))
    assert task.load_info["from_cache"] is True
    assert torch.equal(first.train.x, second.train.x) and first.test.meta == second.test.meta
    # Another num_words re-uses the same cache: ranks are mapped at load time.
    aclimdb.clear_memory_cache()
    get_task("imdb", num_words=8).load(data_dir=str(data))
    assert len(list(cache.glob("imdb-*.npz"))) == 1
    # A changed source (new mtime) is parsed again; a damaged cache is ignored and rewritten.
    src = data / "imdb" / "aclImdb_v1.tar.gz"
    os.utime(src, ns=(time.time_ns(), time.time_ns() + 10**9))
    aclimdb.clear_memory_cache()
    task.load(data_dir=str(data))
    assert task.load_info["from_cache"] is False and len(list(cache.glob("imdb-*.npz"))) == 2
    for f in cache.glob("imdb-*.npz"):
        f.write_bytes(b"not an npz")
    aclimdb.clear_memory_cache()
    third = task.load(data_dir=str(data))
    assert task.load_info["from_cache"] is False and torch.equal(third.train.x, first.train.x)


def test_damaged_archive_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "imdb").mkdir()
    (tmp_path / "imdb" / "aclImdb_v1.tar.gz").write_bytes(b"\x1f\x8b" + b"garbage" * 100)
    with pytest.raises(ValueError, match="damaged or incomplete"):
        get_task("imdb").load(data_dir=str(tmp_path))


def test_missing_data_downloads_through_the_real_path(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_CACHE_DIR", str(tmp_path / "cache"))
    body = make_tarball(make_aclimdb(tmp_path / "src"), tmp_path / "served.tar.gz").read_bytes()
    data = tmp_path / "data"
    with serve() as srv:
        url = srv.add("/aclImdb_v1.tar.gz", body)
        remote = RemoteFile("aclImdb_v1.tar.gz", url, hashlib.sha256(body).hexdigest(), len(body), "imdb",
                            imdb_mod.IMDB_FILE.alternatives)
        monkeypatch.setattr(imdb_mod, "IMDB_FILE", remote)
        with pytest.raises(DownloadError, match=r"aclImdb_v1\.tar\.gz"):
            get_task("imdb", download=False).load(data_dir=str(data))
        seen = []
        task = get_task("imdb")
        task.progress = lambda done, total: seen.append(done)
        splits = task.load(data_dir=str(data))
    assert (data / "imdb" / "aclImdb_v1.tar.gz").read_bytes() == body and seen[-1] == len(body)
    assert len(splits.train) == 12


# ------------------------------------------------------------------------------- typed input, presets
def test_encode_decode_typed_reviews(synth):
    data, _ = synth
    task = get_task("imdb", num_words=30, maxlen=50)
    with pytest.raises(ValueError, match="load the data or a trained run"):
        task.encode("great movie")
    task.load(data_dir=str(data))
    x, steps = task.encode("")
    assert x.tolist() == [[START]] and steps == ["<start>"]
    enc = task.encode_text("Great movie 🎬 película 😀")  # the synthetic reviews all end with 😀
    assert enc.tokens == ["<start>", "great", "movie", "🎬", "película", "😀"]
    assert enc.oov == [False, False, False, True, True, False]
    paste = ("word " * 20_000)[:100_000] + " the end"
    long = task.encode_text(paste)
    assert len(long.ids) == 50 and long.cut == 20_002 - 50 + 1 and long.tokens[-2:] == ["the", "end"]
    with pytest.raises(ValueError, match="text"):
        task.encode(123)
    out = task.decode(torch.tensor([[0.0, 2.0]]))
    assert out["prediction"] == "pos" and out["probabilities"]["pos"] == pytest.approx(1 / (1 + np.exp(-2)))
    with pytest.raises(ValueError, match="shape"):
        task.decode(torch.zeros(3))
    # A restored run encodes exactly as the task it was trained with, whatever preset is picked later.
    state = json.loads(json.dumps(task.state()))
    again = get_task("imdb")
    again.restore(state)
    again.configs("seed")
    assert again.num_words == 30 and again.encode_text(paste).ids == long.ids
    state["options"]["num_words"] = 40  # a tampered run: its ids would not fit the vocabulary
    with pytest.raises(ValueError, match="num_words"):
        get_task("imdb").restore(state)


def test_presets_carry_the_source_settings():
    task = get_task("imdb")
    m, t = task.configs("seed")
    assert (m.cell, m.vocab_size, m.embed_dim, m.hidden_size) == ("lstm", 5000, 32, 100)
    assert (m.output_size, m.head, m.padding_idx) == (2, "last", 0)
    assert (t.optimizer, t.lr, t.batch_size, t.epochs, t.val_fraction) == ("adam", 1e-3, 64, 3, 0.0)
    assert task.maxlen == 500 and task.options["truncating"] == "pre"
    m, t = task.configs("seed-simplernn")
    assert (m.cell, m.vocab_size, m.hidden_size, t.optimizer, t.batch_size, t.epochs, t.val_fraction) == (
        "rnn", 10000, 32, "rmsprop", 128, 10, 0.2)
    assert task.num_words == 10000
    m, _ = get_task("imdb", num_words=2000).configs("seed")  # an explicit option wins over the preset
    assert m.vocab_size == 2000
    assert {"seed", "seed-simplernn", "quick", "default"} <= set(task.presets)
    with pytest.raises(ValueError, match="unknown imdb option"):
        get_task("imdb", maxlength=3)
    with pytest.raises(ValueError, match="maxlen"):
        get_task("imdb", maxlen=0)
    with pytest.raises(ValueError, match="unknown imdb preset"):
        task.configs("fast")


# ----------------------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def real():
    """The workplace's aclImdb_labeled.tar.gz via UNROLLED_DATA_DIR; parsed once (~30 s), then cached."""
    task = get_task("imdb")
    task.configs("seed")
    start = time.perf_counter()
    splits = task.load()
    first = time.perf_counter() - start
    aclimdb.clear_memory_cache()
    start = time.perf_counter()
    again = get_task("imdb", num_words=5000).load()
    print(f"\nIMDB load: first {first:.1f} s (from cache: {task.load_info['from_cache']}), "
          f"from the .npz cache {time.perf_counter() - start:.2f} s")
    return task, splits, again


@pytest.mark.slow
def test_real_imdb_is_25k_25k_balanced(real):
    task, splits, again = real
    assert Path(task.load_info["source"]).name in ("aclImdb_labeled.tar.gz", "aclImdb_v1.tar.gz", "aclImdb")
    assert (len(splits.train), len(splits.test)) == (25_000, 25_000)
    assert int(splits.train.y.sum()) == 12_500 and int(splits.test.y.sum()) == 12_500
    assert int(splits.train.x.max()) < 5000 and int(splits.train.lengths.max()) == 500
    assert len(splits.test.meta["text"]) == 25_000 and splits.test.meta["text"][0].strip()
    vocab = task.vocab_obj()
    assert vocab.words[:5] == ["the", "and", "a", "of", "to"] and len(vocab.words) == 5000 - 4
    assert torch.equal(again.test.x, splits.test.x)  # the cached parse gives the same data
    ratings, labels = np.array(splits.test.meta["rating"]), splits.test.y.numpy()
    assert ratings[labels == 1].min() >= 7 and ratings[labels == 0].max() <= 4


@pytest.mark.slow
def test_quick_preset_beats_80_percent_on_the_25k_test_reviews():
    """The Train page's default IMDB preset: one pass over the real training reviews (~20-40 s on 2 cores)."""
    from rnn_core.train import evaluate, fit

    task = get_task("imdb")
    mcfg, tcfg = task.configs("quick")
    splits = task.load(seed=tcfg.seed)
    model = build_model(mcfg, seed=tcfg.seed)
    hist = fit(model, task, tcfg, splits=splits)
    assert not (hist.stopped or hist.diverged), hist.message
    test = evaluate(model, task, splits.test)
    print(f"\nIMDB quick preset: {hist.seconds:.1f} s training, test accuracy {test['accuracy']:.4f}")
    assert test["accuracy"] > 0.80, test


@pytest.mark.slow
def test_bundled_model_keeps_its_test_accuracy():
    """pretrained/imdb-gru, as the Sentiment page loads it, on all 25,000 test reviews (encoded with its own vocab)."""
    from rnn_core.runs import load_run
    from rnn_core.train import evaluate

    run = load_run("imdb-gru")
    splits = run.task.load()
    acc = evaluate(run.model, run.task, splits.test)["accuracy"]
    assert acc >= 0.88 and acc == pytest.approx(run.final_metrics["test_accuracy"], abs=1e-9), acc
