"""Writing files safely: `write_atomic` replaces a file so that readers never see a partial one;
`guard_formula` / `unguard_formula` keep user text in CSV cells from running as a spreadsheet formula.

Every scratch or temporary file carries the writing process's id (`scratch_name`), so two runs
never share one, and `sweep_stale` removes those a killed run left behind: only when their process
is gone or they are older than `STALE_AFTER`, never a live run's. `publish_lock` serializes the
publishing of a set of files (a report's three) into one directory, so the set always comes from
one run.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError, Problem

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
STALE_AFTER = 24 * 3600  # seconds: a scratch file this old is a leftover even if its pid is in use again
# `.<name>.<pid>-<8 hex>.<kind>`: what `scratch_name` makes; nothing else is ever swept.
_SCRATCH = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d{1,10})-[0-9a-f]{8}\.(?P<kind>tmp|running\.ipynb)")

_UMASK = os.umask(0o022)  # reading the umask means setting it: put it straight back
os.umask(_UMASK)


def scratch_name(name: str, kind: str) -> str:
    """A hidden file name no other run can share: `.<name>.<pid>-<random>.<kind>` (kind tmp or running.ipynb)."""
    return f".{name}.{os.getpid()}-{secrets.token_hex(4)}.{kind}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's live process (or a pid we cannot ask about): keep its files
    return True


def sweep_stale(directory: str | Path) -> list[Path]:
    """Remove the scratch files (`scratch_name`) in `directory` that a crashed run left: those whose
    process is gone, or older than STALE_AFTER (pids are reused).
    Returns what was removed; files of live runs stay. Pids are this machine's: a directory shared
    with runs on another host (or in another pid namespace) would need a per-host name."""
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        m = _SCRATCH.fullmatch(entry.name)
        if m is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                continue
            pid = int(m["pid"])
            if pid != os.getpid() and (not _pid_alive(pid) or now - st.st_mtime > STALE_AFTER):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # gone already (another run swept it) or not ours to remove
    return removed


@contextlib.contextmanager
def publish_lock(directory: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on `directory` (flock on its descriptor, so no lock file is left):
    files published while holding it are never interleaved with another run's."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def writable_target(path: str | Path) -> Path:
    """The file a write to `path` must replace: through symlinks to what they point to; a device,
    fifo, socket or directory is refused (replacing it would break the system or lose data)."""
    path = Path(path)
    real = Path(os.path.realpath(path))
    try:
        mode = real.stat().st_mode
    except FileNotFoundError:
        return real  # a new file (a dangling link is created where it points, as open() would)
    what = ("a directory; give a file name" if stat.S_ISDIR(mode)
            else "a device; give a regular file" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a fifo (named pipe); give a regular file" if stat.S_ISFIFO(mode)
            else "a socket; give a regular file" if stat.S_ISSOCK(mode) else None)
    if what is not None:
        shown = str(path) if real == path.absolute() else f"{path} (-> {real})"
        raise InputError(Problem(f"is {what}", file=shown))
    return real


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write a file so that readers see the old or the new content, never a partial one.

    A symlink is written through: its target is replaced and the link stays a link. Directories,
    devices, fifos and sockets are refused with InputError. The temporary file is removed on any
    failure; any left in the directory by a killed process (of this file or another) is swept by
    the next write into it."""
    path = writable_target(path)
    mode = "wb" if isinstance(data, bytes) else "w"
    # Every leftover of the directory, not only this file's: a killed `-o a.csv` must not leave its
    # temporary file until a.csv happens to be written again. Live runs' files stay (sweep_stale).
    sweep_stale(path.parent)
    tmp = path.parent / scratch_name(path.name, "tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # The temporary file is private (0600); give it the mode a plain open() would, or the
        # mode of the file it replaces.
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
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


__all__ = ["FORMULA_START", "STALE_AFTER", "guard_formula", "publish_lock", "scratch_name", "sweep_stale",
           "unguard_formula", "writable_target", "write_atomic"]
