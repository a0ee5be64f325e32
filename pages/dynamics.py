"""Dynamics: the state of a trained network as a point moving through a space — how many directions it uses,
where inputs take it, its slow (fixed) points under a constant input and how it behaves around them."""

import streamlit as st

from app import session
from app.dynamics import compute as C
from app.dynamics import figures as F
from app.quote import quote
from rnn_core.analysis.analyse import Options

st.title("Dynamics")
st.write(
    "A recurrent network's state is a point that moves one step per input. Here you see the states it visits over "
    f"{C.N_INPUTS} held-out examples on their principal components, the **slow points** where it stays put while "
    "one input is held (found by minimising the speed q = ½‖F(s, x) − s‖² from 1,000 visited states), and the "
    "eigenvalues of the step linearised around them — after Sussillo & Barak (2013) and Maheswaranathan et al. "
    "(2019), who found sentiment networks integrate evidence along a line of slow points."
)
run, path, stamp = C.pick_run(session.DYNAMICS_RUN)
cfg = run.model_cfg
with st.expander("Analysis settings", icon=":material/tune:"):
    cols = st.columns(4)
    layer = cols[0].selectbox("Layer", range(cfg.num_layers), index=cfg.num_layers - 1)
    direction = cols[1].selectbox("Direction", run.model.directions())
    kinds = {"zero": "zero input", "pad": "padding token", "token": "a word", "value": "a constant value"}
    allowed = ["zero", "pad", "token"] if cfg.token_input else ["zero", "value"]
    kind = cols[2].selectbox("Input held constant", allowed, format_func=kinds.get, key=session.DYNAMICS_INPUT)
    value: float = 0.0
    if kind == "token":
        st.session_state.setdefault(session.DYNAMICS_WORD, "the")
        word = cols[3].text_input("Word", key=session.DYNAMICS_WORD)
        try:
            value = C.word_id(run, word)
        except ValueError as e:
            st.warning(quote(e, 300), icon=":material/warning:")
            st.stop()
    elif kind == "value":
        value = cols[3].number_input("Value", -5.0, 5.0, 0.0, 0.1)
options = Options(layer=layer, direction=direction, input_kind=kind, input_value=value)
a = C.analysis(run, path, stamp, options)
dyn, s = a.dyn, a.dyn.summary()

cols = st.columns(4)
cols[0].metric("PCs for 90 % of variance", f"{s['pcs_90_trained']} of {s['state_size']}",
               f"untrained: {s['pcs_90_untrained']}", delta_color="off", delta_arrow="off")
cols[1].metric("Slow points", f"{s['slow_points']:,}", f"of {s['starts']:,} starts", delta_color="off",
               delta_arrow="off", help=f"Kept when q ≤ {s['q_tolerance']:.1e}: a thousandth of the starts' median.")
if s["line_share"] is not None:
    cols[2].metric("Slow points on a line", f"{s['line_share']:.1%}", "variance on their first PC",
                   delta_color="off", delta_arrow="off")
if s["leading_distance_from_1_median"] is not None:
    cols[3].metric("Leading eigenvalue's distance from 1", f"{s['leading_distance_from_1_median']:.4f}",
                   f"median |λ₁| {s['leading_abs_eig_median']:.4f}", delta_color="off", delta_arrow="off")
st.caption(f"State = {dyn.state_parts} of layer {dyn.states.layer} ({dyn.states.direction}); analysed in "
           f"{a.seconds:.1f} s, kept for this run until its weights change.")
st.markdown(C.verdict(s))
if note := C.rotation_note(a):
    st.markdown(note)

st.plotly_chart(F.fig_variance(dyn), key="dyn_variance")
st.caption(F.READ_VARIANCE)

st.subheader("Trajectories, readout and slow points")
trajs = C.trajectory_picker(run, a, session.DYNAMICS_TEXT)
cols = st.columns(4)
view = cols[0].radio("View", ["2-D with Play", "3-D"], horizontal=True, key="dyn_view")
colour_by = cols[1].radio("Colour states by", ["label", "step"], horizontal=True,
                          index=0 if len(run.task.labels) else 1)
n_pc = len(dyn.pca.explained)
pcx = cols[2].selectbox("Horizontal axis", range(n_pc), 0, format_func=lambda k: f"PC {k + 1}")
pcy = cols[3].selectbox("Vertical axis", range(n_pc), min(1, n_pc - 1), format_func=lambda k: f"PC {k + 1}")
if view == "3-D":
    st.plotly_chart(F.fig_state_space_3d(dyn, trajs, run.task.labels), key="dyn_space3d")
else:
    st.plotly_chart(F.fig_state_space(dyn, trajs, run.task.labels, colour_by, (pcx, pcy)), key="dyn_space")
st.caption(F.READ_SPACE)
st.caption(F.READ_FIXED)

st.subheader("Around a slow point")
if not len(dyn.fixed):
    st.info("No slow point met the tolerance for this input: the network keeps moving while it is held. Try another "
            "constant input in the settings above.", icon=":material/search_off:")
    st.stop()
k = st.slider("Slow point (1 = the slowest)", 1, len(dyn.fixed), 1, key="dyn_point") - 1 if len(dyn.fixed) > 1 else 0
st.caption(f"q = {dyn.fixed.q[k]:.2e} · {dyn.fixed.counts[k]} start(s) ended here · leading λ = "
           f"{dyn.eigenvalues[k, 0]:.4f} (τ = {dyn.time_constants(k)[0]:.1f} steps)")
cols = st.columns(2)
cols[0].plotly_chart(F.fig_eigenvalues(dyn.eigenvalues[k]), key="dyn_eigen")
cols[1].plotly_chart(F.fig_time_constants(dyn.eigenvalues[k]), key="dyn_tau")
st.caption(F.READ_EIGEN)

if run.task.name == "imdb" and options.layer == 0:
    st.subheader("Which words push along the line")
    if st.toggle("Compare per-word kicks with the TF-IDF baseline's word weights", key="dyn_words"):
        w = C.word_agreement(path, stamp, options)
        st.metric("Rank correlation (Spearman) with TF-IDF word weights", f"{w['spearman']:.2f}",
                  f"{w['words']:,} words", delta_color="off", delta_arrow="off")
        st.write("Strongest pushes toward negative: " + ", ".join(w["negative"]))
        st.write("Strongest pushes toward positive: " + ", ".join(w["positive"]))
        st.caption(C.READ_WORDS)
