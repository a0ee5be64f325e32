"""The Train page's baseline note for IMDB: the TF-IDF + logistic regression test accuracy beside the bundled
RNN's and your latest run's, as the bar a recurrent model should clear."""

from __future__ import annotations

import streamlit as st

from ..run_access import usable_runs

BASELINE_LABEL = "TF-IDF + logistic regression"


def baseline_note(task_name: str) -> None:
    """On the Train page for IMDB: the TF-IDF + logistic regression test accuracy (and the bundled RNN's) as
    the bar a recurrent model should clear. Nothing for other tasks."""
    if task_name != "imdb":
        return
    from rnn_core.baseline import METHOD, baseline_accuracy, cached_baseline
    from rnn_core.data import DownloadError

    found = cached_baseline()
    runs = usable_runs("imdb")
    bundled = [r for r in runs if r["pretrained"]]
    yours = [r for r in runs if not r["pretrained"] and "test_accuracy" in (r.get("final_metrics") or {})]
    with st.container(border=True):
        st.markdown("**Baseline to beat** — the same 25,000 test reviews")
        cols = st.columns(3)
        if found:
            cols[0].metric(BASELINE_LABEL, f"{found['accuracy']:.1%}",
                           help=f"{METHOD}: {found.get('features', 0):,} features, C = {found.get('C', 0):g} (picked "
                                f"on held-out training reviews), fitted on {found.get('n_train', 0):,} reviews.")
        else:
            with cols[0]:
                st.caption(f"{BASELINE_LABEL}: not computed on this machine yet.")
                if st.button("Compute baseline", key="baseline_compute", help="Takes a few minutes; cached after."):
                    try:
                        with st.spinner("Fitting TF-IDF + logistic regression on 25,000 reviews…"):
                            baseline_accuracy()
                        st.rerun()
                    except (DownloadError, ValueError) as e:
                        st.warning(str(e))
        if bundled:
            m = bundled[0].get("final_metrics") or {}
            if "test_accuracy" in m:
                cols[1].metric(f"Bundled {(bundled[0].get('cell') or 'RNN').upper()}", f"{m['test_accuracy']:.1%}",
                               help=f"The bundled run {bundled[0]['name']} on the same test reviews.")
        if yours:
            cols[2].metric(f"Your latest run ({yours[0]['name']})", f"{yours[0]['final_metrics']['test_accuracy']:.1%}",
                           help="Scored on the 25,000 test reviews when its training finished.")
        st.caption("How to read this: test accuracy on the same 25,000 held-out reviews — a bag of words and word "
                   "pairs with a linear classifier, the bundled recurrent network, and your latest finished IMDB "
                   "run. Word order barely matters for sentiment, so the bag of words is hard to beat.")
