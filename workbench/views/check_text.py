"""`workbench check` and `workbench init`: their handlers, and what they print (the problems with
their fixes, the changes, a summary).

Kept out of `workbench.cli` so that the command line stays a thin layer of flags. Wrong flags raise
ValueError, which the command line reports as a usage error (exit 2). Every line of user text goes
through `terminal_text` (no escape sequence from a cell reaches the terminal).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..errors import Problem, quote
from ..io.check import CheckReport, check_file, parse_defaults
from ..io.columns import column_map_path
from ..io.fixed_copy import check_output_path, fixed_name, write_fixed
from .output import terminal_text, to_json


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def summary(report: CheckReport) -> str:
    """'12 problems; 7 can be fixed with --fix' (or 'none can be')."""
    fixable = report.fixable
    can = "none" if not fixable else ("all" if fixable == len(report.problems) and fixable > 1 else f"{fixable:,}")
    return f"{_count(len(report.problems), 'problem')}; {can} can be fixed with --fix"


def valid_line(report: CheckReport, written: Path | None = None) -> str:
    """'<file>: 24 initiatives, valid' (of the corrected copy, with `written`), and the done ones left out."""
    p = report.portfolio
    if written is None:
        done = f" ({_count(len(p.done), 'done initiative')} left out)" if p is not None and p.done else ""
        return f"{report.source}: {_count(len(p) if p is not None else 0, 'initiative')}{done}, valid"
    line = f"wrote {written}: {_count(len(p), 'initiative')}, valid"
    if p.done:  # kept as rows whose status is done, so the copy loses nothing
        line += f" (and {_count(len(p.done), 'done initiative')}, kept with status done)"
    if report.columns is not None and Path(report.source).suffix.lower() not in (".yaml", ".yml"):
        line += f"; it keeps your headers, read with the mapping copied beside it ({column_map_path(written).name})"
    if report.other_sheets:
        others = report.other_sheets
        shown = ", ".join(quote(s) for s in others[:5]) + (f" and {len(others) - 5:,} more" if len(others) > 5 else "")
        line += f"; the copy holds this sheet only, not the {_count(len(others), 'other sheet')} ({shown})"
    return line


def _natural(text: str | None) -> tuple:
    """A column label as sorted: '10 (Team)' after '9 (Effort)', 'AA' after 'Z'."""
    text = text or ""
    m = re.match(r"(\d+)|([A-Z]+)\b", text)
    if m and m[1]:
        return (0, int(m[1]), text)
    return (1, len(m[2]), text) if m else (2, 0, text)


def _in_order(problems: list[Problem]) -> list[Problem]:
    """Problems in (file, line, column) order: those of a whole file first, the rest as found."""
    return sorted(problems, key=lambda p: (p.file or "", p.line or 0, _natural(p.column)))


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """The problems as a table for people: where (file, line, column), the value, what is wrong, the fix."""
    return pd.DataFrame([{"File": "" if p.file is None else Path(p.file).name,
                          "Line": "" if p.line is None else f"{p.line:,}", "Column": p.column or "",
                          "Value": "" if p.value is None else str(p.value), "Problem": p.message,
                          "Fix": "" if p.fix is None else p.fix} for p in problems],
                        columns=["File", "Line", "Column", "Value", "Problem", "Fix"])


def fix_command(report: CheckReport) -> str:
    """The command that writes a corrected copy (`workbench check FILE --fix -o COPY`)."""
    return f"workbench check {report.source} --fix -o {fixed_name(report.source)}"


def check_text(report: CheckReport, *, fixed: bool = False, written: Path | None = None) -> str:
    """The report as `workbench check` prints it: without `fixed`, every problem with its fix and a
    summary; with `fixed`, each change, then what was written or the problems left."""
    lines = [f"note: {n}" for n in report.notes]
    if not fixed:
        lines += [str(p) for p in _in_order(report.problems)]
        lines.append(summary(report) if report.problems else valid_line(report))
    else:
        lines += [str(c) for c in sorted(report.changes, key=lambda c: c.line)]  # a row's in the order made
        if report.remaining:
            lines += [str(p) for p in _in_order(report.remaining)]
            lines.append(f"{_count(len(report.remaining), 'problem')} left after "
                         f"{_count(len(report.changes), 'change')}; nothing written")
        else:
            lines.append(f"{_count(len(report.changes), 'change')}; " + valid_line(report, written))
    return "\n".join(terminal_text(line) for line in lines) + "\n"


def _problem_record(p: Problem) -> dict:
    value = p.value if p.value is None or isinstance(p.value, (str, int, float, bool)) else str(p.value)
    return {"file": p.file, "line": p.line, "column": p.column, "value": value, "message": p.message, "fix": p.fix}


def check_json(report: CheckReport, *, fixed: bool = False, written: Path | None = None) -> str:
    """{"valid", "problems": [{file, line, column, value, message, fix}], "changes": [{line, column,
    before, after, reason}], "notes", "initiatives", "written"}: `problems` are the file's as it is,
    or with `fixed` those left after the changes; `valid` is whether there are none."""
    problems = report.remaining if fixed else report.problems
    p = report.portfolio
    return to_json({
        "valid": not problems,
        "problems": [_problem_record(q) for q in problems],
        "changes": [{"line": c.line, "column": c.column, "before": c.before, "after": c.after, "reason": c.reason}
                    for c in report.changes],
        "notes": list(report.notes),
        "initiatives": len(p) if p is not None and not problems else None,
        "written": str(written) if written is not None else None,
    }) + "\n"


def check_command(args) -> tuple[str, int]:
    """`workbench check FILE [--fix -o COPY]`: the report, and exit status 2 when problems are left."""
    if args.fix and not args.fixed:
        raise ValueError(f"--fix writes a corrected copy and never changes {args.portfolio}: give the copy's name "
                         f"with -o, e.g. -o {fixed_name(args.portfolio)}")
    if args.fixed and not args.fix:
        raise ValueError("-o names the corrected copy: add --fix")
    if args.fixed:
        check_output_path(args.portfolio, args.fixed, args.columns)
    report = check_file(args.portfolio, sheet=args.sheet, columns=args.columns, defaults=parse_defaults(args.defaults))
    written = write_fixed(report, args.fixed) if args.fix and not report.remaining else None
    render = check_json if args.format == "json" else check_text
    left = report.remaining if args.fix else report.problems
    return render(report, fixed=args.fix, written=written), 2 if left else 0


def init_command(args) -> str:
    """`workbench init PATH`: a starter portfolio (`io.starter.write_starter`), and what to do next."""
    from ..io.starter import write_starter

    path = write_starter(args.path)
    return (f"wrote {terminal_text(path)}: every column, two example rows and how to fill them in\n"
            f"next: replace the examples with your initiatives, then run: workbench check {terminal_text(path)}\n")
