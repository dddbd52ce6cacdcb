"""The bounds on what one run may read, draw and hold, checked before any large allocation.

A file or a setting beyond one of these is refused with exit 2 and a message naming the limit,
so that no input, however it is made, can exhaust the machine or run for hours. The README's
"Limits" section lists them with the peak memory they keep a run within; change them together.
"""

from __future__ import annotations

# --- files ----------------------------------------------------------------------------------
MAX_FILE_BYTES = 50 * 2**20           # a portfolio, correlation or settings file on disk
MAX_UNZIPPED_BYTES = 200 * 2**20      # the parts of an .xlsx, as declared in its zip directory
MAX_ZIP_PARTS = 10_000                # parts (files) inside an .xlsx: real workbooks have tens to hundreds
MAX_ROWS = 20_000                     # data rows of a sheet or CSV (each one an initiative)
MAX_COLUMNS = 512                     # columns of a sheet or CSV
MAX_CELL_CHARS = 32_767               # one cell (Excel's own limit)
MAX_YAML_NODES = 200_000              # YAML nodes that aliases add when expanded (a billion-laughs guard)
MAX_YAML_WRITTEN_NODES = 1_000_000    # YAML keys, values and list items as written (about 9 s to read)
MAX_YAML_DEPTH = 64                   # nesting of YAML collections
# Parts of an .xlsx, as declared: the shared strings are held as a list (about 3 bytes of memory
# per byte of XML at worst); styles and the structural parts are small in any real workbook (Excel
# allows 64,000 cell formats, ~8 MiB); the sheet is streamed (flat memory) at roughly a million XML
# elements every 1-4 s, so 64 MiB (about 40 bytes a cell: 20,000 rows of 80 cells) reads in under a minute.
MAX_SHARED_STRINGS_BYTES = 32 * 2**20
MAX_STYLES_BYTES = 8 * 2**20
MAX_STRUCTURE_BYTES = 2 * 2**20       # [Content_Types].xml, the workbook part, relationships: parsed whole
MAX_SHEET_BYTES = 64 * 2**20
MAX_MESSAGE_VALUE = 80                # characters of a value quoted in a message

# --- work and memory ------------------------------------------------------------------------
MAX_INITIATIVES = 20_000              # initiatives in one portfolio
MAX_DRAWS = 1_000_000_000             # samples x initiatives drawn by one ranking (work; 4e8 took
                                      # 95 s of CPU at 20,000 initiatives, so this is ~4 minutes)
MAX_HELD_VALUES = 50_000_000          # samples x initiatives kept in memory (8 bytes each, per factor)
MAX_SCENARIO_VALUES = 20_000_000      # scenarios x initiatives in the planning matrix
MAX_RANK_MATRIX = 25_000_000          # initiatives^2: exact rank-probability matrix (P(top k) always)
MAX_SWEEP_POINTS = 1_000              # budgets in a budget sweep
MAX_CAPACITY_ENTRIES = 1_000          # team capacities and theme shares
MAX_CORRELATED = 2_000                # distinct estimates in correlations: their d x d matrix is decomposed
                                      # (O(d^3): 1.1 s for eigvalsh, 2.3 s for eigh at 2,000, one core)
