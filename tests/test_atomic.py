"""The one atomic writer: a failed write leaves the old file and no temporary behind; a good one replaces it."""

from __future__ import annotations

import pytest

from rnn_core.atomic import atomic_path, write_text_atomic


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "cache.json"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["cache.json"]


def test_write_replaces_and_a_named_temporary_is_used_while_writing(tmp_path):
    target = tmp_path / "a.tar.gz"
    write_text_atomic(target, "one\r\ntwo")
    assert target.read_bytes() == b"one\r\ntwo"  # newlines exactly as given
    with atomic_path(target, temp=tmp_path / "a.tar.gz.part") as part:
        part.write_text("new")
        assert (tmp_path / "a.tar.gz.part").exists() and target.read_bytes() == b"one\r\ntwo"
    assert target.read_text() == "new" and not part.exists()
