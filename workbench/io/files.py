"""Writing files safely: `write_atomic` replaces a file so that readers never see a partial one;
`guard_formula` / `unguard_formula` keep user text in CSV cells from running as a spreadsheet formula."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_UMASK = os.umask(0o022)  # reading the umask means setting it: put it straight back
os.umask(_UMASK)


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write a file so that readers see the old or the new content, never a partial one."""
    path = Path(path)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600); give it the mode a plain open() would, or the
        # mode of the file it replaces.
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def guard_formula(value: str) -> str:
    """Text for a CSV cell that no spreadsheet runs as a formula: a leading apostrophe before a
    formula starter (=, +, -, @, tab, carriage return) or before an apostrophe, so that
    `unguard_formula` gives the text back exactly."""
    return "'" + value if value.startswith(FORMULA_START + ("'",)) else value


def unguard_formula(value: str) -> str:
    """The text `guard_formula` was given: one leading apostrophe dropped before a formula starter
    or an apostrophe (the CSV reader applies it, so guarded files read back unchanged)."""
    return value[1:] if value.startswith("'") and value[1:2] and value[1:].startswith(FORMULA_START + ("'",)) else value
