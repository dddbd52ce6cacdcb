"""Portfolio files in and out: `read` (CSV, .xlsx, YAML and the bundled demo), `columns` (which
column is which: mappings, synonyms, statuses, ids made from names), `validate` (every cell
checked, located problems), `write` (`save_portfolio`) and `files` (atomic writes). The model
itself is `workbench.model.portfolio`."""

from .columns import ColumnMap, column_map_path, read_column_map
from .files import write_atomic
from .read import correlations_path, demo_portfolio, load_portfolio, normalize_column
from .write import SAVE_SUFFIXES, save_portfolio

__all__ = ["SAVE_SUFFIXES", "ColumnMap", "column_map_path", "correlations_path", "demo_portfolio", "load_portfolio",
           "normalize_column", "read_column_map", "save_portfolio", "write_atomic"]
