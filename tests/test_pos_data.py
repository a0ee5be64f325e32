"""The pos task's data: the CoNLL-U reader (multiword ranges and empty nodes skipped), the real EWT files,
the download of a split at the pinned release, typed-text tokenizing and encoding, and the baseline."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from localhttp import serve

from rnn_core.data import DownloadError, data_dir
from rnn_core.pos_baseline import baseline_scores, most_frequent_tags
from rnn_core.tagger import PAD, UNK
from rnn_core.tasks import get_task
from rnn_core.tasks.pos import MAX_CHARS, MAX_WORDS, PosVocab, build_split, chunks, clip_chars
from rnn_core.ud import UD_RELEASE, UPOS_TAGS, Sentence, ensure_ewt, ewt_file, load_sentences, read_conllu, tokenize

HANDMADE = """# sent_id = s1
# text = I don't know.
1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_
2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdo\tdo\tAUX\tVBP\t_\t4\taux\t_\t_
3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_
4\tknow\tknow\tVERB\tVB\t_\t0\troot\t_\t_
4.1\tknow\tknow\tVERB\tVB\t_\t_\t_\t0:root\t_
5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_

# sent_id = s2
1\tBooks\tbook\tNOUN\tNNS\t_\t0\troot\t_\t_

"""


def test_reader_keeps_syntactic_words_and_skips_ranges_and_empty_nodes():
    sents = read_conllu(io.StringIO(HANDMADE))
    assert [s.sent_id for s in sents] == ["s1", "s2"]
    assert sents[0].words == ("I", "do", "n't", "know", ".")  # not "don't", not the empty node 4.1
    assert sents[0].tags == ("PRON", "AUX", "PART", "VERB", "PUNCT")
    assert sents[1].words == ("Books",) and sents[1].tags == ("NOUN",)


def test_reader_rejects_a_tag_outside_upos():
    with pytest.raises(ValueError, match="not a UPOS tag"):
        read_conllu(io.StringIO(HANDMADE.replace("PRON\tPRP", "PRN\tPRP")))


def _plain_word_lines(path: Path) -> int:
    """Lines whose first field is a plain integer id: the words UPOS scoring counts."""
    return sum(1 for line in path.open(encoding="utf-8") if line.split("\t", 1)[0].isdigit())


@pytest.mark.slow
def test_reader_on_the_real_test_file_counts_every_word_once(tmp_path):
    path = ensure_ewt("test", download_ok=False)
    raw = path.read_text(encoding="utf-8")
    assert "\n2-3\t" in raw or any(line.split("\t")[0].count("-") for line in raw.splitlines()[:5000])
    sents = load_sentences(path, tmp_path)
    assert len(sents) == 2077
    assert sum(len(s.words) for s in sents) == _plain_word_lines(path) == 25094
    assert {t for s in sents for t in s.tags} <= set(UPOS_TAGS)
    again = load_sentences(path, tmp_path)  # from the in-process cache; the JSON cache file exists too
    assert again == sents and any(tmp_path.glob("ud_en_ewt-ud-test_*.json"))


def test_download_of_a_split_at_the_pinned_release(tmp_path):
    body = ensure_ewt("test", download_ok=False).read_bytes()
    assert ewt_file("test").url.endswith(f"UD_English-EWT/{UD_RELEASE}/en_ewt-ud-test.conllu")
    with serve() as srv:
        srv.add("/ud/en_ewt-ud-test.conllu", body)
        srv.add("/bad/en_ewt-ud-test.conllu", body.replace(b"PRON", b"NOUN", 1))  # same size, other bytes
        seen: list[tuple[int, int]] = []
        got = ensure_ewt("test", tmp_path, progress=lambda d, t: seen.append((d, t)), base_url=srv.url("/ud"))
        assert got == tmp_path / "ud_english_ewt" / "en_ewt-ud-test.conllu" and got.read_bytes() == body
        assert seen[-1] == (len(body), len(body)) and len(seen) > 1
        other = tmp_path / "other"
        with pytest.raises(DownloadError, match="checksum mismatch"):
            ensure_ewt("test", other, base_url=srv.url("/bad"))
        assert not list((other / "ud_english_ewt").iterdir())  # no partial file left behind
        assert ensure_ewt("test", tmp_path, base_url=srv.url("/ud")) == got  # present: no second request
        assert srv.hits.count("/ud/en_ewt-ud-test.conllu") == 1


def test_missing_file_with_downloads_off_says_where_to_put_it(tmp_path):
    with pytest.raises(DownloadError, match="ud_english_ewt"):
        get_task("pos", download=False).read("dev", str(tmp_path))


@pytest.mark.parametrize(
    "text,words",
    [
        ("I can't go.", ["I", "ca", "n't", "go", "."]),
        ("It's Bob's 3.5 kg, e.g. 1,000!", ["It", "'s", "Bob", "'s", "3.5", "kg", ",", "e.g.", "1,000", "!"]),
        ("see https://example.com/a?b=1.", ["see", "https://example.com/a?b=1", "."]),
        ("mail me@x.org now", ["mail", "me@x.org", "now"]),
        ("well-known... (yes)", ["well-known", "...", "(", "yes", ")"]),
        ("", []),
        ("   \n ", []),
    ],
)
def test_tokenize_splits_like_ewt(text, words):
    assert tokenize(text) == words


def test_vocab_encodes_unknown_words_by_their_characters_and_clips_long_ones():
    vocab = PosVocab.build([Sentence(("the", "The", "cat"), ("DET", "DET", "NOUN"))], min_count=2)
    assert vocab.words == ["the"] and vocab.known("THE") and not vocab.known("cat")
    x = vocab.encode_words(["The", "zebra", "x" * 30])
    assert x.shape == (3, 1 + MAX_CHARS)
    assert x[0, 0] == 2 and x[1, 0] == UNK and x[2, 0] == UNK
    assert (x[1, 1:6] > PAD).all() and (x[1, 6:] == PAD).all()  # "zebra": five characters, then padding
    assert int((x[1, 1:6] == UNK).sum()) == 3  # z, b, r never seen: unknown characters; "e" and "a" are known
    assert (x[2, 1:] != PAD).all() and len(clip_chars("x" * 30)) == MAX_CHARS


def test_long_training_sentences_are_split_and_splits_pad_with_ignore_index():
    long = Sentence(tuple(f"w{i}" for i in range(MAX_WORDS + 5)), ("NOUN",) * (MAX_WORDS + 5))
    parts = chunks([long], MAX_WORDS)
    assert [len(p.words) for p in parts] == [MAX_WORDS, 5]
    data = build_split(parts, PosVocab.build(parts, 1))
    assert data.x.shape == (2, MAX_WORDS, 1 + MAX_CHARS) and data.lengths.tolist() == [MAX_WORDS, 5]
    assert (data.y[1, 5:] == -100).all() and (data.x[1, 5:] == PAD).all()


def test_encode_text_cuts_very_long_input_and_says_how_much():
    task = get_task("pos")
    task.restore({"options": {}, "vocab": PosVocab.build([Sentence(("a",), ("DET",))], 1).to_dict()})
    enc = task.encode_text(" ".join(["word"] * (MAX_WORDS + 7)))
    assert enc.x.shape == (1, MAX_WORDS, 1 + MAX_CHARS) and enc.cut == 7 and len(enc.words) == MAX_WORDS
    empty = task.encode_text("")
    assert empty.words == [] and empty.x.shape[1] == 0 and empty.cut == 0
    with pytest.raises(ValueError, match="must be text"):
        task.encode_text(42)  # type: ignore[arg-type]


def test_most_frequent_tag_baseline_on_handmade_sentences():
    train = [Sentence(("book", "a", "book"), ("VERB", "DET", "NOUN")), Sentence(("book",), ("NOUN",))]
    best, fallback = most_frequent_tags(train)
    assert best == {"book": "NOUN", "a": "DET"} and fallback == "NOUN"
    test = [Sentence(("book", "a", "flight"), ("VERB", "DET", "NOUN"))]
    s = baseline_scores(train, test)
    assert s["accuracy"] == pytest.approx(2 / 3) and s["known_accuracy"] == 0.5 and s["unknown_accuracy"] == 1.0
    # a capitalised form falls back on the lowercase word's tag and counts as seen
    s = baseline_scores(train, [Sentence(("Book", "A"), ("NOUN", "DET"))])
    assert s["accuracy"] == 1.0 and s["n_unknown"] == 0


@pytest.mark.slow
def test_most_frequent_tag_baseline_on_ewt(record_figure):
    task = get_task("pos", download=False)
    s = baseline_scores(task.read("train"), task.read("test"))
    record_figure("pos most-frequent-tag baseline accuracy", s["accuracy"])
    assert s["n"] == 25094 and 0.84 < s["accuracy"] < 0.89  # measured 0.8665
    assert s["known_accuracy"] > 0.9 > 0.4 > s["unknown_accuracy"]


def test_data_dir_holds_ewt():
    assert (data_dir() / "ud_english_ewt" / "en_ewt-ud-train.conllu").is_file()
