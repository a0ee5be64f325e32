"""Runs page: every saved run (yours and the bundled ones), their validation curves overlaid, and rename,
delete, download and open-inside for one run at a time."""

import streamlit as st

from app import nav, session
from app.quote import quote
from app.runs import archive, runlist
from app.train import curves
from rnn_core.runs import delete_run, rename_run

CURVES = {"val_loss": "validation loss", "val_accuracy": "validation accuracy", "val_mse": "validation MSE"}


def _done(kind: str, text: str) -> None:
    st.session_state[session.RUNS_MESSAGE] = (kind, text)
    st.session_state[session.RUNS_TABLE] = st.session_state.get(session.RUNS_TABLE, 0) + 1  # fresh selection
    st.session_state.pop(session.PENDING_DELETE, None)


def _rename(old: str) -> None:
    new = st.session_state.get(session.RENAME_PREFIX + old, "").strip()
    try:
        path = rename_run(old, new)
    except ValueError as e:
        st.session_state[session.RUNS_MESSAGE] = ("error", f"Could not rename {old!r}: {quote(e, 300)}")
        return
    session.set_current_run(path.name)
    _done("success", f"Renamed {old!r} to {path.name!r}.")


def _delete(name: str) -> None:
    try:
        delete_run(name)
    except ValueError as e:
        st.session_state[session.RUNS_MESSAGE] = ("error", f"Could not delete {name!r}: {quote(e, 300)}")
        st.session_state.pop(session.PENDING_DELETE, None)
        return
    _done("success", f"Deleted run {name!r}.")


st.title("Runs")
st.write(
    "Every training run is saved when it ends — finished, stopped or diverged — so it is still here after a "
    "browser reload or a server restart. Choose runs below the table to overlay their validation curves, then "
    "rename, delete or download one, or look inside it."
)
if message := st.session_state.pop(session.RUNS_MESSAGE, None):
    getattr(st, message[0])(message[1])
archive.import_box()

rows = runlist.runs()
if not any(not r.get("pretrained") for r in rows):
    st.info("No saved runs of your own yet. Train one on the Train page; it appears here when it ends.")
    nav.link("pages/train.py", "Go to Train", ":material/model_training:")
    if not rows:
        st.stop()

st.dataframe(
    runlist.table(rows)[runlist.COLUMNS], hide_index=True, key=f"runs_{st.session_state.get(session.RUNS_TABLE, 0)}",
    column_config={"val_loss": "val loss", "val_accuracy": "val accuracy", "val_mse": "val MSE"},
)
st.caption("How to read this: one row per run with its last epoch's validation loss and its task's metric — "
           "accuracy for classifiers and taggers, MSE for regression; — where a run has no value (e.g. stopped "
           "before its first validation). Yours come first, newest on top, then the bundled ones.")
names = [r["name"] for r in rows]
first = runlist.opening_run(rows, session.current_run())
chosen = st.multiselect("Runs to compare and manage", names, default=[first],
                        key=f"pick_{st.session_state.get(session.RUNS_TABLE, 0)}")
picked = [r for r in rows if r["name"] in chosen]
if not picked:
    st.info("Choose one or more runs above to compare their curves and to rename, delete or download them.")
    st.stop()

st.subheader("Compare")
metrics = {r["name"]: runlist.metrics(r["path"]) for r in picked}
available = [c for c in CURVES if any(c in m for m in metrics.values())]
if available:
    column = st.radio("Curve", available, horizontal=True, format_func=CURVES.get)
    st.plotly_chart(curves.fig_compare(metrics, column), key="compare", config={"displaylogo": False})
    st.caption("How to read this: one line per selected run, its validation value after each epoch; lower loss "
               "or MSE and higher accuracy are better. Hover for exact values.")
    if missing := [n for n, m in metrics.items() if column not in m]:
        st.caption(f"Not on the chart — no validation {CURVES[column].split(' ', 1)[1]} recorded: "
                   f"{', '.join(missing)} (a run stopped in its first epoch, or one of another kind of task).")
else:
    st.info("The selected runs have no validation curves yet (a run stopped in its first epoch has none).")

st.subheader("Manage")
name = st.selectbox("Run", [r["name"] for r in picked])
run = next(r for r in picked if r["name"] == name)
session.set_current_run(name)
with st.container(horizontal=True):
    st.download_button("Metrics (CSV)", runlist.download_bytes(run["path"], "metrics.csv") or b"",
                       file_name=f"{name}-metrics.csv", mime="text/csv", on_click="ignore",
                       icon=":material/download:", key=f"csv_{name}")
    st.download_button("Weights (safetensors)", runlist.download_bytes(run["path"], "weights.safetensors") or b"",
                       file_name=f"{name}.safetensors", mime="application/octet-stream", on_click="ignore",
                       icon=":material/download:", key=f"weights_{name}")
    archive.download_button(run)
    nav.link("pages/inside.py", "Look inside", ":material/visibility:", run=name)
with st.expander("Training curves of this run"):
    batches, epochs = runlist.batches(run["path"]), metrics[name]
    for key in [k for k in ("loss", "accuracy", "mse") if f"train_{k}" in epochs]:
        fig = curves.fig_curves(batches, epochs, key, warmup=runlist.warmup(run.get("task")))
        st.plotly_chart(fig, key=f"run_{key}", config={"displaylogo": False})
    st.caption(curves.READ_CURVES)
if run["pretrained"]:
    st.caption("Bundled runs can't be renamed or deleted.")
elif run.get("sweep"):
    st.caption(f"Runs of a sweep stay in the sweep's folder, where its results table finds them: they can't be "
               f"renamed or deleted one by one (the sweep is **{quote(run['sweep'])}** in the runs folder).")
else:
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.text_input("New name", value=name, key=session.RENAME_PREFIX + name, max_chars=80, width=420,
                      help="Letters, digits, '-', '_' and '.'; spaces become '-'.")
        st.button("Rename", on_click=_rename, args=(name,), key=f"do_rename_{name}")
        if st.session_state.get(session.PENDING_DELETE) != name:
            st.button("Delete…", icon=":material/delete:", key=f"ask_delete_{name}",
                      on_click=lambda: st.session_state.update({session.PENDING_DELETE: name}))
    if st.session_state.get(session.PENDING_DELETE) == name:
        st.warning(f"Delete run **{name}**? Its folder — weights, curves, probe — is removed for good.")
        with st.container(horizontal=True):
            st.button("Yes, delete", type="primary", on_click=_delete, args=(name,), key=f"delete_{name}")
            st.button("Keep it", on_click=lambda: st.session_state.pop(session.PENDING_DELETE, None),
                      key=f"keep_{name}")
