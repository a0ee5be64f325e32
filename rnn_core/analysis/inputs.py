"""The inputs whose states the analysis collects: held-out examples of the run's task (IMDB: a class-balanced
sample of test reviews, read straight from the tokenized corpus so the 25,000 training reviews are not built)."""

from __future__ import annotations

import numpy as np
import torch

from ..tasks import Task
from ..tasks.base import SeqData


def example_inputs(task: Task, n: int = 500, data_dir: str | None = None, seed: int = 0) -> SeqData:
    """Up to ``n`` held-out examples (test split, else validation) with labels; a seeded, class-balanced pick."""
    if task.name == "imdb":
        return _imdb_test(task, n, data_dir, seed)
    splits = task.load(data_dir, seed=seed)
    data = splits.test if splits.test is not None else splits.val
    pick = np.random.default_rng(seed).permutation(len(data))[:n]
    return data.subset(torch.as_tensor(np.sort(pick)))


def _imdb_test(task: Task, n: int, data_dir: str | None, seed: int) -> SeqData:
    from ..data import cache_dir
    from ..data.aclimdb import load_corpus
    from ..tasks.imdb import IMDB_FILE, balanced_sample, build_split

    source = IMDB_FILE.ensure(data_dir, download_ok=False)
    corpus = load_corpus(source, task.tokenizer, cache_dir(data_dir))  # type: ignore[attr-defined]
    idx = np.sort(balanced_sample(corpus.test.labels, n, seed))
    opts = task.options
    return build_split(corpus.test, idx, int(opts["num_words"]), int(opts["maxlen"]), str(opts["truncating"]),
                       with_text=True, n_ranked=len(corpus.words))
