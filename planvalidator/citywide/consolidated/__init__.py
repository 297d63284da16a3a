"""The consolidated citywide plan workbook: one format, written by `write` and read back by `read`."""

from .read import read_consolidated
from .write import write_consolidated

__all__ = ["read_consolidated", "write_consolidated"]
