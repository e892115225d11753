"""Outputs every result shares: an Arrow table, pandas and Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq


class ResultTable:
    """Base of the result classes: subclasses give :meth:`to_arrow`."""

    def to_arrow(self) -> Any:
        """The result as a ``pyarrow.Table`` (one row per bin or shape)."""
        raise NotImplementedError

    def to_pandas(self) -> Any:
        """The :meth:`to_arrow` table as a pandas DataFrame."""
        return self.to_arrow().to_pandas()

    def save_parquet(self, path: str | Path) -> None:
        """Writes the :meth:`to_arrow` table (with its metadata) to Parquet."""
        pq.write_table(self.to_arrow(), path)
