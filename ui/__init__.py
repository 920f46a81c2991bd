"""Streamlit-side helpers shared by the pages: cached reads that follow the database file.

pandas is imported here, once, by the first page that imports anything from ``ui``: Plotly imports
pandas lazily (``sys.modules`` look-ups in its validators), so two sessions drawing their first chart
at the same time could meet a half-imported pandas ("partially initialized module 'pandas' has no
attribute 'Series'", found by tests/test_soak.py). Importing it under the package's import lock
means every page sees it whole.
"""
import pandas  # noqa: F401
