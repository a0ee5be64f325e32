"""Benchmark of the Inside view's figure data: ``python -m app.inside.bench`` replays a 500-step input
through an LSTM with 128 units and prints how many bytes of figure JSON (what Streamlit sends to the
browser) each view costs, and how long replay and building take. Prints one JSON object at the end.
"""

from __future__ import annotations

import json
import time

import torch

from rnn_core.config import ModelConfig
from rnn_core.model import build_model

from .data import direction_views, max_window, step_prediction, unit_order, window_bounds
from .figure import fig_unrolled

SEQ, UNITS, FEATURES, CLASSES = 500, 128, 5, 5
LIMIT = 2_000_000  # bytes: what one figure may cost


def measure(bidirectional: bool = False, seed: int = 0) -> dict[str, float]:
    """Figure sizes (bytes of ``fig.to_json()``) and timings for a SEQ × UNITS LSTM view."""
    model = build_model(ModelConfig(cell="lstm", input_size=FEATURES, hidden_size=UNITS, bidirectional=bidirectional,
                                    output_size=CLASSES, head="last"), seed=seed)
    g = torch.Generator().manual_seed(seed)
    x = torch.nn.functional.one_hot(torch.randint(0, FEATURES, (1, SEQ), generator=g), FEATURES).float()  # [1, seq, 5]
    t0 = time.perf_counter()
    _, cache = model.run_with_cache(x)
    replay_s = time.perf_counter() - t0
    dirs = model.directions()
    views = direction_views(cache, 0, dirs, "lstm")
    steps = ["abcde"[k] for k in x[0].argmax(-1).tolist()]
    pred = step_prediction("classify", cache["hook_logits"][0].numpy(), list("abcde"), target=2)
    order = unit_order(views["fwd"]["h"], "cluster")
    out: dict[str, float] = {"seq": SEQ, "units": UNITS, "directions": len(dirs), "replay_s": round(replay_s, 3)}

    def size(name: str, **kw) -> None:
        t = time.perf_counter()
        fig = fig_unrolled(views, steps, "lstm", order=order, unit=3, inputs=x[0].numpy(), prediction=pred, **kw)
        built = time.perf_counter() - t
        text = fig.to_json()
        frames = sum(len(json.dumps(f.to_plotly_json())) for f in fig.frames)
        slider = len(json.dumps(fig.layout.sliders[0].to_plotly_json())) if fig.layout.sliders else 0
        out[f"{name}_bytes"] = len(text)
        out[f"{name}_frames_bytes"] = frames
        out[f"{name}_slider_bytes"] = slider
        out[f"{name}_n_frames"] = len(fig.frames)
        out[f"{name}_build_s"] = round(built + 0.0, 3)

    n_q, n_d = 6, len(dirs)
    size("all6_full", window=(0, SEQ))  # every quantity, all 500 steps: over the limit, so the page windows it
    length = max_window(UNITS, n_q, n_d)
    out["page_window_steps"] = min(length, SEQ)
    size("page_default", window=window_bounds(SEQ, length, 0))  # what the Inside page sends by default
    size("states_full", window=(0, SEQ), quantities=("h", "c"))  # h and c over all 500 steps
    size("gates_window", window=window_bounds(SEQ, max_window(UNITS, 4, n_d), 0), quantities=("i", "f", "g", "o"))
    return out


def main() -> None:
    results = {"uni": measure(False), "bi": measure(True)}
    for kind, r in results.items():
        head = f"[{kind}] {r['seq']} steps × {r['units']} units, {r['directions']} direction(s)"
        print(f"{head}: replay {r['replay_s']} s")
        for name in ("all6_full", "page_default", "states_full", "gates_window"):
            mb = r[f"{name}_bytes"] / 1e6
            flag = "ok" if r[f"{name}_bytes"] < LIMIT else "over 2 MB"
            frames = f"{r[f'{name}_n_frames']} frames: {r[f'{name}_frames_bytes'] / 1e3:.0f} kB"
            print(f"  {name:13s} {mb:6.2f} MB  ({frames}, "
                  f"slider text {r[f'{name}_slider_bytes'] / 1e3:.0f} kB; built in {r[f'{name}_build_s']} s)  {flag}")
        print(f"  the page shows {r['page_window_steps']} steps at a time with all six quantities")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
