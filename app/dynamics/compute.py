"""The Dynamics page's data: the analysis of a run (computed once per run, weights file and settings, with progress
shown while it runs), trajectories of inputs a person picks or types, and the IMDB word-kick comparison."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from app import run_access
from app.quote import quote
from rnn_core.analysis.analyse import Dynamics, Options, analyse, kick_agreement, word_kicks
from rnn_core.analysis.inputs import example_inputs
from rnn_core.analysis.rotation import rotation_vs_cycles
from rnn_core.analysis.states import collect_states
from rnn_core.tasks.base import SeqData

from .figures import Trajectory

READ_WORDS = ("How to read: a word's kick is how far one step of it moves the state along the slow line (its left "
              "eigenvector's coordinate), averaged over up to 40 slow points along the line; the TF-IDF weights come "
              "from a logistic regression on single words of the training reviews. A correlation near 1 means the "
              "network ranks words' sentiment as the bag-of-words model does.")
EXAMPLE_REVIEW = "The plot was dull and the acting was bad, but the ending was wonderful and I loved the music."
N_INPUTS = 500  # held-out examples whose states are collected
MAX_CACHED = 6  # analyses kept in memory (each a few tens of MB for IMDB)


@dataclass
class Analysis:
    """A finished analysis and the examples it read (their labels, and texts for IMDB)."""

    dyn: Dynamics
    inputs: SeqData
    seconds: float


def _show(bar: Any, fraction: float, message: str) -> None:
    """The analysis's progress on the page's bar."""
    bar.progress(min(1.0, fraction), text=message)


@st.cache_resource
def _store() -> OrderedDict[tuple, Analysis]:
    # One in-process store, not st.cache_data: the computation reports progress to elements on the page, which a
    # cache_data function would record and replay on every later hit. Entries are never modified after storing.
    return OrderedDict()


def analysis(run: Any, path: str, stamp: str, options: Options, n_inputs: int = N_INPUTS) -> Analysis:
    """The analysis of ``run`` for ``options``: from memory when this weights file was analysed with these settings
    before, else computed now under a status box with a progress bar (≈ 30 s for the bundled IMDB model)."""
    key = (path, stamp, options, n_inputs)
    store = _store()
    if key in store:
        store.move_to_end(key)
        return store[key]
    start = time.perf_counter()
    with st.status("Analysing the state space…", expanded=True) as status:
        bar = st.progress(0.0, text="Reading the examples")
        inputs = example_inputs(run.task, n_inputs)
        labels = inputs.y if inputs.y.dim() == 1 else None
        dyn = analyse(run.model, inputs.x, inputs.lengths, labels, options,
                      progress=lambda f, msg: _show(bar, f, msg), init_seed=run.train_cfg.seed)
        seconds = time.perf_counter() - start
        status.update(label=f"Analysed {len(inputs)} examples and {options.n_starts} starts in {seconds:.1f} s",
                      state="complete", expanded=False)
    result = Analysis(dyn, inputs, seconds)
    store[key] = result
    while len(store) > MAX_CACHED:
        store.popitem(last=False)
    return result


def trajectory_of(run: Any, dyn: Dynamics, user_input: Any, name: str) -> Trajectory:
    """A person's input (text, letters, numbers) → its path through the analysed cell's state space.
    ValueError (with the task's own message) when the input can't be encoded."""
    x, steps = run.task.encode(user_input)
    states = collect_states(run.model, x, layer=dyn.states.layer, direction=dyn.states.direction)
    return Trajectory(name, states.trajectory(0), [str(s) for s in steps])


def example_trajectory(run: Any, a: Analysis, i: int, name: str) -> Trajectory:
    """Analysed example ``i``'s path (its states are already collected)."""
    steps = run.task.step_labels(a.inputs, i)
    return Trajectory(name, a.dyn.states.trajectory(i), [str(s) for s in steps])


def first_of_each_label(a: Analysis) -> dict[int, int]:
    """{label: index of the first analysed example with it} (empty when the task has no labels)."""
    labels = a.dyn.states.labels
    return {int(c): int(np.flatnonzero(labels == c)[0]) for c in sorted(set(labels.tolist())) if c >= 0}


@st.cache_data(max_entries=8, show_spinner="Comparing per-word kicks with the TF-IDF model's word weights…")
def word_agreement(path: str, stamp: str, options: Options, n_inputs: int = N_INPUTS) -> dict[str, Any]:
    """For an IMDB run: Spearman correlation between per-word kicks along the slow line and the TF-IDF + logistic
    regression word weights, and the words with the strongest kicks each way."""
    from rnn_core.analysis.word_weights import word_weights

    a = _store().get((path, stamp, options, n_inputs))
    if a is None:
        raise ValueError("analyse the run first")
    run = _run(path, stamp)
    kicks = word_kicks(run.model, a.dyn)
    weights = word_weights(run.model.cfg.vocab_size)
    vocab = run.task.vocab_obj()
    order = np.argsort(kicks)
    return dict(kick_agreement(kicks, weights),
                negative=[vocab.token_of(int(i)) for i in order[:12]],
                positive=[vocab.token_of(int(i)) for i in order[::-1][:12]])


def _run(path: str, stamp: str) -> Any:
    return run_access.load_model(path, stamp)


def pick_run(key: str) -> tuple[Any, str, str]:
    """The model picker over every run (run_access.pick_run) → (loaded run, its path, its weights stamp)."""
    run = run_access.pick_run(None, key, "No run to analyse yet: train one on the Train page.")
    path = str(run.path)
    return run, path, run_access.run_stamp(path)


def word_id(run: Any, word: str) -> int:
    """The token id of ``word`` in an IMDB run's vocabulary; ValueError when it has none of its own."""
    from rnn_core.data.text import OOV

    vocab = run.task.vocab_obj()
    words = run.task.tokenizer(word)
    if len(words) != 1:
        raise ValueError("give exactly one word")
    idx = vocab.id_of(words[0])
    if idx == OOV:
        raise ValueError(f"'{words[0]}' is not among the model's {vocab.num_words:,} words; try a more common one")
    return idx


def verdict(s: dict[str, Any]) -> str:
    """One plain sentence per finding, from the summary numbers."""
    out = [f"The trained network spends 90 % of its state variance in **{s['pcs_90_trained']}** direction(s), "
           f"against **{s['pcs_90_untrained']}** before training."]
    if s["slow_points"] == 0:
        out.append("No slow point was found under this input.")
    else:
        if s["line_share"] is not None:
            shape = "lie along a line" if s["line_share"] > 0.9 else "do not lie along one line"
            out.append(f"The {s['slow_points']:,} slow points {shape} ({s['line_share']:.0%} of their variance on "
                       "one direction).")
        near, mag = s["leading_distance_from_1_median"], s["leading_abs_eig_median"]
        if near < 0.02:
            kind = "a mode that integrates (remembers) its input."
        elif mag > 1:
            kind = "a mode that grows: the points are unstable (saddles) along it."
        else:
            kind = "every mode fades: these points attract, they do not integrate."
        out.append(f"Their leading eigenvalue is typically {near:.4f} from 1 (|λ₁| ≈ {mag:.3f}) — {kind}")
        rot = s.get("slowest_rotation")
        if s["leading_complex_share"] and s["leading_complex_share"] > 0.5:
            out.append(f"The slowest mode rotates at most slow points ({s['leading_complex_share']:.0%}).")
        elif rot:
            out.append(f"The slowest mode is real, not a rotation; the slowest rotating pair has "
                       f"|λ| = {rot['abs']:.3f} and turns {rot['angle_rad']:.3f} rad per step (period "
                       f"{rot['period_steps']:.0f} steps, fading in τ = {rot['tau_steps']:.1f} steps).")
    return " ".join(out)


def rotation_note(a: Analysis) -> str | None:
    """For inputs that oscillate (the sine task's windows carry their frequency): how the state turns with them."""
    freq = a.inputs.meta.get("freq") if a.inputs.meta else None
    if freq is None or a.dyn.pca.explained.size < 2:
        return None
    r = rotation_vs_cycles(a.dyn, np.asarray(freq, dtype=np.float64), a.dyn.states.step.max() + 1)
    return (f"Driven by a sine, the state circles the PC 1–PC 2 plane **{r['turns_per_cycle']:.2f}** times per input "
            f"cycle (median over {r['examples']} examples; correlation of turns with input cycles "
            f"{r['correlation']:.2f}): the rotation follows the input rather than living in the network's own "
            "dynamics at the slow points.")


def trajectory_picker(run: Any, a: Analysis, key: str) -> list[Trajectory]:
    """Widgets choosing the inputs drawn as trajectories: a typed review (IMDB) / letters, a preset sine, and
    one analysed example of each class → their Trajectories. A bad typed input shows a warning, never a crash."""
    task, out = run.task, []
    if task.name == "sine":
        cols = st.columns(2)
        cycles = cols[0].slider("Sine: cycles per 60 steps", 0.5, 4.0, 2.0, 0.25, key=f"{key}_cycles")
        phase = cols[1].slider("Phase (radians)", 0.0, 6.28, 0.0, 0.01, key=f"{key}_phase")
        t = np.arange(60)
        out.append(trajectory_of(run, a.dyn, np.sin(2 * np.pi * cycles * t / 60 + phase), f"sine, {cycles:g} cycles"))
    elif task.name in ("imdb", "letters"):
        default = EXAMPLE_REVIEW if task.name == "imdb" else "abcdeabcde"
        st.session_state.setdefault(key, default)
        text = st.text_area("Your input (drawn as a trajectory)", key=key, height=80 if task.name == "imdb" else 68)
        try:
            if text.strip():
                out.append(trajectory_of(run, a.dyn, text, "your input"))
        except ValueError as e:
            st.warning(f"Can't read that input: {quote(e, 300)}", icon=":material/warning:")
    names = task.labels or []
    for c, i in first_of_each_label(a).items():
        name = f"a {names[c]} example" if c < len(names) else f"example {i}"
        out.append(example_trajectory(run, a, i, name))
    if not first_of_each_label(a) and a.dyn.states.n_examples:
        out.append(example_trajectory(run, a, 0, "a test example"))
    return out
