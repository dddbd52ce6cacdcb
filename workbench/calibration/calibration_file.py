"""The calibration file (`calibration.json`): writing it atomically, reading and validating it.

A calibration is versioned JSON (`Calibration.to_dict`); reading checks every key and value and
reports every problem at once, located by its key path, and caches what it read on (resolved path,
modification time, size), so the pipeline can apply the same file on every dashboard change
without reading it again, and a rewritten file is read afresh.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..errors import InputError, Problem
from ..io.files import write_atomic
from ..io.table import read_bytes
from .correction import VERSION, Calibration, DeliveryMapping, RangeCorrection
from .history import MEASURED

MAX_WIDEN = 20.0  # ranges 20 times as wide on the log scale: beyond any history's finding
MAX_HALF_WIDTH = 5.0  # a single number becomes at most ×/÷ e^5 (about 150)

# --- the file --------------------------------------------------------------------------------------------

_CACHE: dict[tuple, Calibration] = {}
_CACHE_SIZE = 16


def save_calibration(calibration: Calibration, path) -> Path:
    """Write `calibration` as JSON (atomically); the path written."""
    path = Path(path)
    write_atomic(path, json.dumps(calibration.to_dict(), indent=2, ensure_ascii=False) + "\n")
    return path


def load_calibration(path) -> Calibration:
    """Read and validate a calibration.json; InputError naming the file and what is wrong. Cached on
    (resolved path, mtime_ns, size), so a rewritten file is read again."""
    shown = str(path)
    try:
        resolved = Path(path).resolve()
        st = resolved.stat()
    except OSError as e:
        raise InputError(Problem(f"cannot read the calibration file: {e.strerror or e}", file=shown)) from None
    key = (str(resolved), st.st_mtime_ns, st.st_size)
    if key in _CACHE:
        return _CACHE[key]
    try:
        data = json.loads(read_bytes(resolved).decode("utf-8"))  # refused unread beyond limits.MAX_FILE_BYTES
    except json.JSONDecodeError as e:
        raise InputError(Problem(f"not valid JSON: {e.msg} (column {e.colno}); expected a calibration.json "
                                 f"written by `workbench calibrate learn`", file=shown, line=e.lineno)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(Problem(f"cannot read the calibration file: {e}", file=shown)) from None
    except ValueError as e:  # e.g. an integer of thousands of digits
        raise InputError(Problem(f"not a calibration.json: {e}", file=shown)) from None
    calibration = Calibration.from_dict(data, shown)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = calibration
    return calibration


# --- validation of a calibration file ------------------------------------------------------------------


class _Checker:
    """Collects located problems while reading a calibration dict (column = the key path)."""

    def __init__(self, source: str | None):
        self.source, self.problems = source, []

    def bad(self, where: str, message: str, value: object = None) -> None:
        self.problems.append(Problem(message, file=self.source, column=where, value=value))

    def number(self, d: dict, key: str, where: str, low: float, *, strict: bool = False, optional: bool = False,
               high: float = math.inf):
        value = d.get(key)
        if value is None and optional:
            return None
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or (value <= low if strict else value < low) or value > high:
            sign = ">" if strict else ">="
            upto = "" if high == math.inf else f" and <= {high:g}"
            self.bad(f"{where}.{key}", f"expected a number {sign} {low:g}{upto}" + (" or null" if optional else ""),
                     value)
            return None
        return float(value)

    def count(self, d: dict, key: str, where: str) -> int | None:
        value = d.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.bad(f"{where}.{key}", "expected a whole number of records >= 1", value)
            return None
        return value

    def team(self, d: dict, where: str) -> str | None:
        team = d.get("team")
        if team is not None and not (isinstance(team, str) and team):
            self.bad(f"{where}.team", "expected a team name or null (every team)", team)
        return team if isinstance(team, str) else None

    def items(self, data: dict, key: str):
        """The (key path, object) of each entry of the list data[key], in file order; others are problems."""
        value = data.get(key, [])
        if not isinstance(value, list):
            self.bad(key, "expected a list", value)
            return
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield f"{key}[{i}]", item
            else:
                self.bad(f"{key}[{i}]", "expected an object", item)


def calibration_from_dict(data: object, source: str | None) -> Calibration:
    check = _Checker(source)
    if not isinstance(data, dict):
        raise InputError(Problem("expected a JSON object written by `workbench calibrate learn`", file=source))
    version = data.get("workbench_calibration")
    if version != VERSION:
        what = "is missing" if version is None else f"is {version!r}, which this version of the workbench cannot read"
        check.bad("workbench_calibration", f"the format version {what}; expected {VERSION} "
                  f"(write the file again with `workbench calibrate learn`)")
    method = data.get("method", "")
    if not isinstance(method, str):
        check.bad("method", "expected a text", method)
    learned = data.get("learned_from", {})
    if not isinstance(learned, dict):
        check.bad("learned_from", "expected an object", learned)
    measured = data.get("measured")
    if measured is not None and not isinstance(measured, dict):
        check.bad("measured", "expected an object or null", measured)
    ranges, seen = [], set()
    for where, d in check.items(data, "ranges"):
        factor = d.get("factor")
        if factor not in MEASURED:
            check.bad(f"{where}.factor", f"expected one of {', '.join(MEASURED)}", factor)
        team = check.team(d, where)
        if (factor, team) in seen:
            check.bad(where, f"a second correction of {factor} for {'every team' if team is None else team}")
        seen.add((factor, team))
        # Bounds no learned correction comes near, so a hand-edited file cannot overflow the engine.
        values = (check.count(d, "n", where), check.number(d, "shift", where, 1e-3, strict=True, high=1e3),
                  check.number(d, "shift_se", where, 0, optional=True),
                  check.number(d, "widen", where, 0, strict=True, high=MAX_WIDEN),
                  check.number(d, "widen_se", where, 0, optional=True),
                  check.number(d, "point_half_width", where, 0, optional=True, high=MAX_HALF_WIDTH))
        if factor in MEASURED and None not in (values[0], values[1], values[3]):
            n, shift, shift_se, widen, widen_se, h = values
            ranges.append(RangeCorrection(factor, team, n, shift, _nan(shift_se), widen, _nan(widen_se), h))
    mappings = []
    for where, d in check.items(data, "delivery"):
        team, n = check.team(d, where), check.count(d, "n", where)
        knots = [d.get("stated"), d.get("observed")]
        good = all(isinstance(k, list) and k and all(_probability(v) for v in k) for k in knots)
        if not good:
            check.bad(f"{where}.stated", "expected 'stated' and 'observed': non-empty lists of probabilities 0..1")
        elif len(knots[0]) != len(knots[1]):
            check.bad(f"{where}.observed", f"expected {len(knots[0])} values, one per stated value", len(knots[1]))
        elif any(b <= a for a, b in zip(knots[0], knots[0][1:])):
            check.bad(f"{where}.stated", "expected increasing stated probabilities", knots[0])
        elif any(b < a for a, b in zip(knots[1], knots[1][1:])):
            check.bad(f"{where}.observed", "expected observed rates that never decrease (an isotonic map)", knots[1])
        elif n is not None:
            mappings.append(DeliveryMapping(team, n, tuple(map(float, knots[0])), tuple(map(float, knots[1]))))
    if check.problems:
        raise InputError(check.problems)
    return Calibration(tuple(ranges), tuple(mappings), learned if isinstance(learned, dict) else {},
                       method if isinstance(method, str) else "", measured)


def _nan(x: float | None) -> float:
    return math.nan if x is None else x


def _probability(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1
