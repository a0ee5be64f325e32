"""Data folder resolution and the real download path (urllib against a local HTTP server): a good file lands
atomically, and every failure leaves nothing behind and says how to place the file by hand."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import tarfile
from pathlib import Path

import pytest
from localhttp import serve

from rnn_core import data
from rnn_core.data import DownloadError, RemoteFile, cache_dir, data_dir, download, ensure_file


def _archive() -> bytes:
    """A small real .tar.gz (a few hundred KB, so it arrives in several chunks)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        payload = os.urandom(300_000)  # random bytes do not compress: the archive stays large
        info = tarfile.TarInfo("aclImdb/blob.bin")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


BODY = _archive()
SHA = hashlib.sha256(BODY).hexdigest()


@pytest.fixture(scope="module")
def server():
    with serve() as srv:
        srv.add("/ok.tar.gz", BODY)
        srv.add("/drop.tar.gz", BODY, "drop")
        srv.add("/nolength.tar.gz", BODY, "nolength")
        srv.add("/stall.tar.gz", BODY, "stall")
        yield srv


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _says_how_to_place(msg: str, url: str, dest: Path) -> None:
    assert url in msg
    assert dest.name in msg and str(dest.parent) in msg


def test_download_lands_file_atomically_and_reports_progress(server, tmp_path):
    dest = tmp_path / "imdb" / "aclImdb_v1.tar.gz"
    seen = []
    out = download(server.url("/ok.tar.gz"), dest, SHA, len(BODY), progress=lambda d, t: seen.append((d, t)))
    assert out == dest and dest.read_bytes() == BODY
    assert _leftovers(dest.parent) == ["aclImdb_v1.tar.gz"]  # no .part left over
    assert seen[-1] == (len(BODY), len(BODY)) and len(seen) > 1
    assert all(a[0] < b[0] for a, b in itertools.pairwise(seen))
    with tarfile.open(dest) as tar:  # what arrived is the archive that was served
        assert tar.getnames() == ["aclImdb/blob.bin"]


def test_wrong_checksum_keeps_nothing_and_explains(server, tmp_path):
    dest = tmp_path / "aclImdb_v1.tar.gz"
    url = server.url("/ok.tar.gz")
    with pytest.raises(DownloadError) as err:
        download(url, dest, "0" * 64, len(BODY))
    msg = str(err.value)
    assert "checksum mismatch" in msg and SHA in msg
    _says_how_to_place(msg, url, dest)
    assert _leftovers(tmp_path) == []


def test_wrong_announced_size_keeps_nothing(server, tmp_path):
    dest = tmp_path / "a.tar.gz"
    with pytest.raises(DownloadError, match=f"offers {len(BODY):,} bytes"):
        download(server.url("/ok.tar.gz"), dest, SHA, len(BODY) + 1)
    assert _leftovers(tmp_path) == []


def test_size_without_length_header_is_still_checked(server, tmp_path):
    dest = tmp_path / "a.tar.gz"
    with pytest.raises(DownloadError, match="more than the expected"):
        download(server.url("/nolength.tar.gz"), dest, SHA, len(BODY) - 100)
    assert _leftovers(tmp_path) == []
    with pytest.raises(DownloadError, match="stopped after"):
        download(server.url("/nolength.tar.gz"), dest, SHA, len(BODY) + 100)
    assert _leftovers(tmp_path) == []
    # And with the right size it is accepted.
    assert download(server.url("/nolength.tar.gz"), dest, SHA, len(BODY)).read_bytes() == BODY


def test_http_404(server, tmp_path):
    dest = tmp_path / "a.tar.gz"
    url = server.url("/missing.tar.gz")
    with pytest.raises(DownloadError) as err:
        download(url, dest, SHA, len(BODY))
    assert "HTTP 404" in str(err.value)
    _says_how_to_place(str(err.value), url, dest)
    assert _leftovers(tmp_path) == []


def test_connection_dropped_mid_file(server, tmp_path):
    dest = tmp_path / "a.tar.gz"
    with pytest.raises(DownloadError) as err:
        download(server.url("/drop.tar.gz"), dest, SHA, len(BODY))
    assert "nothing was kept" in str(err.value).lower()
    assert _leftovers(tmp_path) == []


def test_stalled_server_times_out(server, tmp_path):
    dest = tmp_path / "a.tar.gz"
    with pytest.raises(DownloadError, match=r"timeout|timed out"):
        download(server.url("/stall.tar.gz"), dest, SHA, len(BODY), timeout=0.5)
    assert _leftovers(tmp_path) == []


def test_unreachable_host(tmp_path):
    with serve() as srv:
        url = srv.url("/x.tar.gz")
    with pytest.raises(DownloadError, match="could not reach"):  # the server is gone: connection refused
        download(url, tmp_path / "x.tar.gz", SHA, len(BODY), timeout=2)
    assert _leftovers(tmp_path) == []


def test_cancel_from_progress_callback_and_ctrl_c(server, tmp_path):
    dest = tmp_path / "a.tar.gz"

    def cancel(done, total):
        raise RuntimeError("cancelled by the page")

    with pytest.raises(DownloadError, match="cancelled by the page"):
        download(server.url("/ok.tar.gz"), dest, SHA, len(BODY), progress=cancel)
    assert _leftovers(tmp_path) == []

    def ctrl_c(done, total):
        assert (tmp_path / "a.tar.gz.part").exists()  # the partial file exists while streaming...
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download(server.url("/ok.tar.gz"), dest, SHA, len(BODY), progress=ctrl_c)
    assert _leftovers(tmp_path) == []  # ...and is gone after an interrupt


def test_ensure_file_prefers_files_in_place(server, tmp_path):
    remote = RemoteFile("aclImdb_v1.tar.gz", server.url("/ok.tar.gz"), SHA, len(BODY), "imdb",
                        alternatives=("imdb/aclImdb_labeled.tar.gz", "imdb/aclImdb", "aclImdb"))
    before = len(server.hits)
    # Nothing there and downloads off: a clear error naming the file, the folder and the official URL.
    with pytest.raises(DownloadError) as err:
        remote.ensure(tmp_path, download_ok=False)
    _says_how_to_place(str(err.value), remote.url, tmp_path / "imdb" / "aclImdb_v1.tar.gz")
    # An unpacked folder or the labeled archive placed by hand is used as is (no checksum, no request).
    (tmp_path / "aclImdb").mkdir()
    assert remote.ensure(tmp_path) == tmp_path / "aclImdb"
    (tmp_path / "imdb").mkdir()
    (tmp_path / "imdb" / "aclImdb_labeled.tar.gz").write_bytes(b"placed by hand")
    assert remote.ensure(tmp_path) == tmp_path / "imdb" / "aclImdb_labeled.tar.gz"
    assert len(server.hits) == before


def test_ensure_file_downloads_once(server, tmp_path):
    before = server.hits.count("/ok.tar.gz")
    got = ensure_file("aclImdb_v1.tar.gz", server.url("/ok.tar.gz"), SHA, len(BODY), "imdb", data_dir=tmp_path)
    assert got == tmp_path / "imdb" / "aclImdb_v1.tar.gz" and got.read_bytes() == BODY
    again = ensure_file("aclImdb_v1.tar.gz", server.url("/ok.tar.gz"), SHA, len(BODY), "imdb", data_dir=tmp_path)
    assert again == got
    assert server.hits.count("/ok.tar.gz") == before + 1


def test_data_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_dir(tmp_path / "given") == tmp_path / "given"
    assert data_dir() == tmp_path / "env"
    monkeypatch.delenv("UNROLLED_DATA_DIR")
    assert data_dir() == tmp_path / "xdg" / "unrolled" / "data"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_dir() == tmp_path / "home" / ".cache" / "unrolled" / "data"


def test_cache_dir_never_writes_into_a_read_only_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(data.ENV_CACHE_DIR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    writable = tmp_path / "mine"
    writable.mkdir()
    assert cache_dir(writable) == writable / "cache"
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o555)  # like ../shared/data: read-only even for root, by intent
    try:
        assert cache_dir(shared) == tmp_path / "xdg" / "unrolled" / "cache"
        assert not (shared / "cache").exists()
    finally:
        shared.chmod(0o755)
    monkeypatch.setenv(data.ENV_CACHE_DIR, str(tmp_path / "explicit"))
    assert cache_dir(shared) == tmp_path / "explicit"


def test_md5_checksums_for_sources_that_publish_only_md5(server, tmp_path):
    md5 = hashlib.md5(BODY).hexdigest()
    assert data.parse_checksum(f"MD5:{md5.upper()}") == ("md5", md5)
    assert data.parse_checksum(SHA) == ("sha256", SHA)
    dest = download(server.url("/ok.tar.gz"), tmp_path / "a.tar.gz", f"md5:{md5}", len(BODY))
    assert dest.read_bytes() == BODY
    with pytest.raises(DownloadError, match=f"expected md5 {'0' * 32}"):
        download(server.url("/ok.tar.gz"), tmp_path / "b.tar.gz", "md5:" + "0" * 32, len(BODY))
    assert _leftovers(tmp_path) == ["a.tar.gz"]
    with pytest.raises(ValueError, match="unknown checksum algorithm"):
        data.parse_checksum("crc32:abcd")
