"""Portfolio files in and out: `read` (CSV, .xlsx, YAML and the bundled demo), `validate` (every
cell checked, located problems), `write` (`save_portfolio`) and `files` (atomic writes). The
model itself is `workbench.model.portfolio`."""

from .files import write_atomic
from .read import correlations_path, demo_portfolio, load_portfolio, normalize_column
from .write import SAVE_SUFFIXES, save_portfolio

__all__ = ["SAVE_SUFFIXES", "correlations_path", "demo_portfolio", "load_portfolio", "normalize_column",
           "save_portfolio", "write_atomic"]
