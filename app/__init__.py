"""Unrolled's Streamlit layer: the only package that imports streamlit or plotly (charts, jobs, state, forms)."""
