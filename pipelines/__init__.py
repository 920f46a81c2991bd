"""Data side of the discharge and flow dashboard: readers, contract, warehouse, metrics, CLI.

Nothing in this package imports Streamlit.
"""
