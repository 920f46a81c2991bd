"""Storing NHS England's publications beside the trusts' own sitreps: each format stores its own
(``pipelines.publication.formats``, the shared steps in ``pipelines.publication.rows``); this module is
the loader's entry point and names the discharge sitrep's tables."""
from __future__ import annotations

from pipelines.publication.formats import store_publication
from pipelines.publication.formats.discharge import SOURCE, TABLES

__all__ = ["SOURCE", "TABLES", "store_publication"]
