"""Datasets: where they live and how they get there (``fetch``), and the readers of the ones that need
more than a line (``aclimdb`` for the IMDB reviews, ``text`` for its Keras-style tokenizer and vocabulary)."""

from .fetch import (
    ENV_CACHE_DIR,
    ENV_DATA_DIR,
    DownloadError,
    RemoteFile,
    cache_dir,
    data_dir,
    download,
    ensure_file,
    find_existing,
    how_to_place,
)

__all__ = ["ENV_CACHE_DIR", "ENV_DATA_DIR", "DownloadError", "RemoteFile", "cache_dir", "data_dir", "download"]
__all__ += ["ensure_file", "find_existing", "how_to_place"]
