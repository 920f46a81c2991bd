"""Streamlit-side helpers shared by the pages: cached reads that follow the database file."""
