"""Latency of the Sentiment page's work for one review: encode + predict (P(positive) after every word) + the
coloured words and the curve figure + the TF-IDF baseline's score, as the page does it on a text change. Prints
milliseconds per stage, and the seconds the stored baseline takes to load (once per server).

    .venv/bin/python scripts/bench_sentiment.py [RUN] [--words 500] [--repeats 20] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import run_access
from app.playgrounds import sentiment
from rnn_core.baseline import cached_model
from rnn_core.runs import load_run


def review_of(words: int) -> str:
    """A review of exactly ``words`` words, made of the page's examples (all in the vocabulary's language)."""
    pool = " ".join(sentiment.EXAMPLES.values()).split()
    return " ".join(pool[i % len(pool)] for i in range(words))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", nargs="?", help="run folder or bundled run name (default: the first bundled IMDB run)")
    ap.add_argument("--words", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (a Streamlit server shares its cores)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    name = args.run or next(r["path"] for r in run_access.usable_runs("imdb") if r["pretrained"])
    run = load_run(name)
    text = review_of(args.words)
    t = time.perf_counter()
    baseline = cached_model()
    load_s = time.perf_counter() - t
    stages: dict[str, list[float]] = {"analyse (encode + predict)": [], "words html": [], "curve figure": [],
                                      "figure to json": [], "TF-IDF baseline score": [], "total": []}
    for i in range(args.repeats + 2):
        t0 = time.perf_counter()
        a = sentiment.analyse(run.model, run.task, text)
        t1 = time.perf_counter()
        sentiment.words_html(a)
        t2 = time.perf_counter()
        fig = sentiment.fig_curve(a)
        t3 = time.perf_counter()
        fig.to_json()  # what st.plotly_chart sends to the browser
        t4 = time.perf_counter()
        if baseline is not None:
            baseline.score(text)
        t5 = time.perf_counter()
        if i < 2:
            continue  # warm-up: first calls build torch kernels and plotly validators
        for key, v in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0)):
            stages[key].append(v * 1000)
    print(f"run {run.name} ({run.model_cfg.cell}, hidden {run.model_cfg.hidden_size}), review of {args.words} words "
          f"({len(a.tokens)} steps read, {a.cut} cut), {args.repeats} repeats, {args.threads} torch thread(s)")
    found = "not fitted here (python -m rnn_core baseline --recompute)" if baseline is None else (
        f"{len(baseline.terms):,} terms, loaded in {load_s:.2f} s")
    print(f"  TF-IDF baseline: {found}")
    for key, values in stages.items():
        print(f"  {key:<28} median {statistics.median(values):7.1f} ms   max {max(values):7.1f} ms")
    print(json.dumps({k: round(statistics.median(v), 2) for k, v in stages.items()}))


if __name__ == "__main__":
    main()
