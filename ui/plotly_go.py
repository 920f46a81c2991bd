"""Plotly's graph objects for the chart modules, with pandas imported whole first.

Plotly imports pandas lazily (``sys.modules`` look-ups in its validators), so two sessions drawing
their first chart at the same time could meet a half-imported pandas ("partially initialized module
'pandas' has no attribute 'Series'", found by tests/test_soak.py). Every chart module takes ``go``
from here, so a session can only reach Plotly once pandas is whole; pages without charts (the home
page on a first start) never pay for importing pandas.
"""
import pandas  # noqa: F401
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = ["go", "make_subplots"]
