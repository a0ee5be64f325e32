"""The Memory page's diagnostics for a picked run: gradient flow (heatmap, lines per architecture, per epoch),
connectivity over one input, gate statistics per epoch, and interventions beside the unmodified replay. Each
view draws from ``diagnostics`` and says how to read it; bad choices become messages, never tracebacks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch

from rnn_core.analysis.gate_stats import MEMORY_GATE
from rnn_core.analysis.interventions import Intervention
from rnn_core.cells import CELL_ACTIVATIONS
from rnn_core.hooks import hook_name
from rnn_core.probe import probe_epochs
from rnn_core.runs import Run

from .. import run_access, session
from ..inside.examples import validation_split
from . import diagnostics, figures


@st.cache_data(max_entries=16, show_spinner="Replaying with gradients…")
def _flow(path: str, stamp: str) -> diagnostics.Flow:
    return diagnostics.flow_on_validation(run_access.load(path))


def flow_on(path: str) -> diagnostics.Flow:
    """Gradient flow of the run at ``path`` on its validation batch, computed once per weights file."""
    return _flow(path, run_access.run_stamp(path))


def gradient_flow(run: Run) -> None:
    """Heatmap of |d loss / d h_t| for the picked run, lines for it and any other runs of its task, and the
    probe's lines per epoch."""
    flow = flow_on(str(run.path))
    steps = [str(t) for t in range(len(flow.mean_norm))]
    st.plotly_chart(figures.fig_grad_heatmap(flow.magnitude, steps, f"|d loss / d h_t| of {run.name}"),
                    width="stretch")
    st.caption(figures.READ["grad_heat"] + (f" Here the norm falls {flow.span:.1f} orders of magnitude from the "
               "last step back to the first (negative: it grows)." if np.isfinite(flow.span) else ""))
    others = {r["path"]: run_access.run_label(r) for r in run_access.usable_runs(run.task.name)
              if r["path"] != str(run.path)}
    picked = st.multiselect("Compare with", list(others), format_func=others.__getitem__, key=session.MEMORY_LINES,
                            help="Other runs of this task (e.g. the other cells you trained above) as more lines.")
    lines = {f"{run.name} ({run.model_cfg.cell.upper()})": flow.mean_norm}
    colors = {next(iter(lines)): figures.CELL_COLORS[run.model_cfg.cell]}
    for path in picked:
        try:
            other = run_access.load(path)
            label = f"{other.name} ({other.model_cfg.cell.upper()})"
            lines[label], colors[label] = flow_on(path).mean_norm, figures.CELL_COLORS[other.model_cfg.cell]
        except ValueError as e:
            st.warning(f"Skipped {path}: {e}", icon=":material/warning:")
    st.plotly_chart(figures.fig_grad_lines(lines, colors, "‖d loss / d h_t‖ per step (validation batch)"),
                    width="stretch")
    st.caption(figures.READ["grad_lines"])
    per_epoch = diagnostics.probe_flow(run)
    if per_epoch:
        shown = _some(sorted(per_epoch))
        st.plotly_chart(figures.fig_grad_lines({f"epoch {e}": per_epoch[e] for e in shown}, {},
                                               "‖d loss / d h_t‖ on the probe example, by epoch"), width="stretch")
        st.caption(figures.READ["grad_epochs"])
    else:
        st.caption("This run has no per-epoch gradient record (it was trained before the probe kept one); train it "
                   "again to see how the gradient flow changed while it learned.")


def _some(epochs: list[int], most: int = 6) -> list[int]:
    """At most ``most`` epochs spread over the list, first and last included."""
    if len(epochs) <= most:
        return epochs
    idx = np.unique(np.linspace(0, len(epochs) - 1, most).round().astype(int))
    return [epochs[i] for i in idx]


def example(run: Run, key: str) -> tuple[torch.Tensor, list[str]]:
    """A validation example (by number) or, when the person types one, their own input."""
    data = validation_split(run)
    c1, c2 = st.columns([1, 3])
    i = int(c1.number_input("Validation example", 0, max(len(data) - 1, 0), 0, key=f"{key}.i"))
    text = c2.text_input("…or your own input", key=f"{key}.text", help="Typed in the task's own format (as on "
                         "the Inside page); leave empty to use the validation example.")
    if text.strip():
        try:
            return run.task.encode(text)
        except ValueError as e:
            st.warning(f"{e} — showing the validation example instead.", icon=":material/warning:")
    n = int(data.lengths[i])
    return data.x[i : i + 1, :n], run.task.step_labels(data, i)


def connectivity(run: Run) -> None:
    """Influence of every input step on the output at a chosen step."""
    x, steps = example(run, "memory.conn")
    step = 0  # a one-step input has one output to explain (a slider from 0 to 0 is refused by Streamlit)
    if len(steps) > 1:
        step = st.slider("Output step", 0, len(steps) - 1, len(steps) - 1, key="memory.conn.step",
                         help="Whose output to explain: the last step is the sequence's answer.")
    inf = diagnostics.influence(run, x, step)
    if inf.curve is None:
        st.markdown(figures.connectivity_html(steps, inf.shares, step), unsafe_allow_html=True)
    st.plotly_chart(figures.fig_connectivity(inf.shares, steps, inf.curve, step), width="stretch")
    st.caption(figures.READ["connectivity"] + " Influence = ‖d output / d input_t‖, as a share of the sum over steps.")


def gates(run: Run) -> None:
    """Saturation per unit at a chosen epoch, the memory gate over time per epoch, the spectral radii per epoch."""
    epochs = probe_epochs(run.probe)
    cell = run.model_cfg.cell
    if epochs and cell != "rnn":
        epoch = st.select_slider("Epoch", epochs, value=epochs[-1], key="memory.gates.epoch")
        stats = diagnostics.gate_stats(run, epoch)
        st.plotly_chart(figures.fig_saturation(stats.shut, stats.open), width="stretch")
        st.caption(figures.READ["saturation"] + " Measured on the training probe example at that epoch.")
        if stats.memory:
            shown = _some(sorted(stats.memory))
            st.plotly_chart(figures.fig_memory_gate({e: stats.memory[e] for e in shown}, MEMORY_GATE[cell]),
                            width="stretch")
            st.caption(figures.READ["memory_gate"])
    elif cell == "rnn":
        st.caption("A plain RNN has no gates: its memory is decided by the recurrent matrix alone (below).")
    radius_epochs, radii = diagnostics.radius_history(run)
    if radius_epochs:
        st.plotly_chart(figures.fig_radius(radius_epochs, radii), width="stretch")
        st.caption(figures.READ["radius"])
    else:
        st.caption("This run has no per-epoch record of its recurrent weights; train it again to see them.")


def _intervention_form(run: Run, seq: int) -> list[Intervention]:
    cfg = run.model_cfg
    kinds = {"clamp a gate": "clamp", "zero a unit": "zero_unit", "reset the state": "reset"}
    c1, c2, c3, c4 = st.columns(4)
    kind = kinds[c1.selectbox("Intervention", list(kinds), key="memory.iv.kind")]
    step = int(c2.number_input("From step" if kind != "reset" else "At step", 0, max(seq - 1, 0), 0,
                               key="memory.iv.step"))
    if kind == "clamp":
        gates = [q for q in CELL_ACTIVATIONS[cfg.cell] if q not in ("h", "c", "pre")]
        if not gates:
            st.info("A plain RNN has no gate to clamp: zero a unit or reset the state instead.", icon=":material/info:")
            return []
        gate = c3.selectbox("Gate", gates, index=gates.index(MEMORY_GATE.get(cfg.cell, gates[0])),
                            key="memory.iv.gate")
        value = c4.select_slider("Value", [0.0, 0.5, 1.0], value=1.0, key="memory.iv.value")
        out = [Intervention("clamp", step=step, gate=gate, value=float(value))]
        if cfg.cell == "lstm" and gate == "f" and value == 1.0 and st.checkbox(
                "…and the input gate i to 0 (nothing new written: c must stay exactly as it was)",
                key="memory.iv.freeze"):
            out.append(Intervention("clamp", step=step, gate="i", value=0.0))
        return out
    if kind == "zero_unit":
        unit = int(c3.number_input("Unit", 0, cfg.hidden_size - 1, 0, key="memory.iv.unit"))
        return [Intervention("zero_unit", step=step, unit=unit)]
    return [Intervention("reset", step=step)]


def interventions(run: Run) -> None:
    """Change the replay through hooks and show the states and prediction beside the unmodified run."""
    x, steps = example(run, "memory.iv")
    ivs = _intervention_form(run, len(steps))
    if not ivs:
        return
    try:
        cmp = diagnostics.intervene(run, x, ivs)
    except ValueError as e:
        st.error(f"Can't apply this: {e}", icon=":material/error:")
        return
    quantities = [q for q in ("h", "c") if q in CELL_ACTIVATIONS[run.model_cfg.cell]]
    for q in quantities:
        name = hook_name(0, "fwd", q)
        st.plotly_chart(figures.fig_intervention(cmp.base[name][0].numpy(), cmp.changed[name][0].numpy(), steps, q),
                        width="stretch")
    st.caption(figures.READ["intervention"])
    st.dataframe(_predictions(run, cmp.base_logits, cmp.logits, ivs), hide_index=True)


def _predictions(run: Run, base: torch.Tensor, changed: torch.Tensor, ivs: list[Intervention]) -> pd.DataFrame:
    task = run.task
    what = "; ".join(iv.describe() for iv in ivs)
    if task.kind == "classify":
        rows = []
        for label, logits in (("as is", base), (what, changed)):
            out = task.decode(logits[0])
            rows.append({"run": label, "prediction": out["prediction"],
                         **{k: f"{v:.1%}" for k, v in out["probabilities"].items()}})
        return pd.DataFrame(rows)
    b, c = base[0].reshape(base.shape[1], -1).numpy(), changed[0].reshape(changed.shape[1], -1).numpy()
    return pd.DataFrame({"step": range(len(b)), "as is": b[:, 0], what: c[:, 0], "difference": c[:, 0] - b[:, 0]})
