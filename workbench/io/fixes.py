"""Corrections `workbench check --fix` proposes for estimate cells, only where one reading is unambiguous.

`explain_fix(column, text, units)` gives the corrected text and why, or None and why not: a range
written with a dash (`2-4`, `2 – 4` -> `2..4`), thousands separators (`1,200` -> `1200`), a unit
in the cell (`3 months` in effort, `1200 users` where the header says `Reach (users/qtr)`),
`percent` written out, a confidence written as a plain percentage under a header that says % (`80` ->
`80%` in `Confidence (%)`). A proposal is
returned only when it parses (`parse_estimate`), and never for a cell that already parses.
A dash range with a scale on its high end only reads both ends at that scale when the bare numbers
rise (`2-4k` -> `2k..4k`, `50-80%` -> `50%..80%`; `500-2k` -> `500..2k`). In a file separated by
`;` (`decimal_comma`) a comma is a decimal comma: `2,5` -> `2.5`, and `1,200` is never read as 1200.
Never guessed: a comma that is not a thousands separator (`1,5`: a decimal comma, or a typo?),
effort in weeks, days or sprints (their conversion to person-months depends on the team), words
outside the grammar, a range whose low end is not below its high end, negative numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import quote
from ..model.estimates import FACTORS, EstimateError, parse_estimate

FIXED_COLUMNS = (*FACTORS, "cost")  # cost is one number, read like a reach

_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"
# A number with its scale: the grammar's k, M, B, bn and %, not the m of "months".
_SCALED = rf"(?P<END>{_NUMBER})(?P<ENDscale>\s*%|(?:bn|[kmb])(?![a-z]))?"
_CELL = re.compile(
    rf"(?P<pre>[^\d\s.,\-–—][^\d]*?)?\s*{_SCALED.replace('END', 'a')}"
    rf"(?:\s*(?P<dash>-|–|—|\bto\b)\s*{_SCALED.replace('END', 'b')})?"
    r"\s*(?P<post>[^\d\s.,][^\d]*?)?",
    re.IGNORECASE,
)
_MONTHS = {"month", "months", "mo", "mos", "pm", "person month", "person months", "man month", "man months",
           "person mo", "months of work"}
OTHER_TIME = {"week": "weeks", "weeks": "weeks", "wk": "weeks", "wks": "weeks", "w": "weeks",
               "person week": "weeks", "person weeks": "weeks", "pw": "weeks",
               "day": "days", "days": "days", "d": "days", "person day": "days", "person days": "days",
               "pd": "days", "sprint": "sprints", "sprints": "sprints", "year": "years", "years": "years",
               "yr": "years", "yrs": "years", "hour": "hours", "hours": "hours", "h": "hours", "hrs": "hours",
               "quarter": "quarters", "quarters": "quarters", "q": "quarters"}
_MONTHS_M = re.compile(r"(?<!\w)(?<!\d\.)(\d+(?:\.\d+)?)\s*m(?![a-z])")  # '3m' in effort: 3 months, not millions
_PERCENT = {"percent", "per cent", "pct"}


def header_units(header: str) -> set[str]:
    """The units a header carries in parentheses or brackets, in lower case: 'Reach (users/qtr)' ->
    {'users/qtr', 'users', 'qtr'}; 'Cost [$]' -> {'$'}."""
    units: set[str] = set()
    for inside in re.findall(r"[(\[]([^()\[\]]*)[)\]]", header):
        inside = inside.strip().lower()
        if inside:
            units.add(inside)
            units.update(part for part in re.split(r"[\s/,]+(?:per\s+)?", inside) if part)
    return units


def _unit_key(text: str) -> str:
    return re.sub(r"[\s\-_]+", " ", text.strip().lower().rstrip(".")).strip()


def _parses(text: str, column: str) -> bool:
    try:
        est = parse_estimate(text, "reach" if column == "cost" else column)
    except EstimateError:
        return False
    return column != "cost" or est.is_point


def explain_fix(column: str, text: object, units: Iterable[str] = (), *,
                decimal_comma: bool = False) -> tuple[str | None, str]:
    """(the corrected cell, why) when one reading of `text` in `column` is unambiguous; (None, why
    not) for a known kind of mistake that is not fixed; (None, "") otherwise, and for a cell that
    already parses. `units`: what the column's header carries (`header_units`); `decimal_comma`:
    the file is separated by ';', so its commas are decimal commas."""
    if column == "effort" and isinstance(text, str) and _MONTHS_M.search(text) and _parses(text, column):
        # '3m', '2..3m' parse as millions; validate refuses a scale in effort and proposes this fix
        plain = _MONTHS_M.sub(r"\1", text.strip())
        if all(float(n) <= 120 for n in _MONTHS_M.findall(text)) and _parses(plain, column) \
                and not re.search(r"\d\s*(bn|[kmb])(?![a-z])", plain, re.IGNORECASE):
            return plain, "m for months"  # ten years at most: months, surely (as validate words it)
        return None, ""
    if column not in FIXED_COLUMNS or not isinstance(text, str) or not text.strip() or _parses(text, column):
        return None, ""
    cell = text.strip()
    if decimal_comma and "," in cell:
        # One number with a decimal comma ('2,5'); three digits after it ('1,200') could be thousands.
        m = re.fullmatch(r"\d+,(\d+)", cell)
        if m and len(m[1]) != 3 and _parses(cell.replace(",", "."), column):
            return cell.replace(",", "."), "a decimal comma"
        return None, "not fixed: in a file separated by ';' a comma is a decimal comma"
    m = _CELL.fullmatch(cell)
    if m is None:
        if re.search(r"\d,\d", cell):
            return None, ("not fixed: the comma does not separate groups of three digits, so it may be a "
                          "decimal comma; type the number with a point or without the comma")
        return None, ""
    reasons: list[str] = []
    ends = [(m["a"], m["ascale"] or "")] + ([(m["b"], m["bscale"] or "")] if m["dash"] else [])
    if any("," in number for number, _ in ends):
        reasons.append("a thousands separator")
    numbers = [(number.replace(",", ""), (scale or "").strip().lower().replace("m", "M")) for number, scale in ends]
    if column == "effort" and any(scale for _, scale in numbers):
        # A scale in effort: 'm' is months ('2-3m'), anything else (k, M, B) is no number of person-months.
        if not all(scale.strip() in ("m", "") for _, scale in ends) or max(float(n) for n, _ in numbers) > 120:
            return None, ""
        numbers = [(number, "") for number, _ in numbers]
        reasons.append("m for months")
    units = {u.lower() for u in units}
    if column == "effort":  # another time unit in the header is not a month either
        units = {u for u in units if _unit_key(u) not in OTHER_TIME}
    for part, after in ((m["pre"], False), (m["post"], True)):
        if not part:
            continue
        key = _unit_key(part)
        if column == "effort" and key in OTHER_TIME:
            return None, (f"not fixed: effort is in person-months, and {OTHER_TIME[key]} are not converted "
                          "(that depends on the team); type the effort in person-months")
        if column == "confidence" and key in _PERCENT and after:
            if any(scale for _, scale in numbers):
                return None, ""
            numbers = [(number, "%") for number, _ in numbers]
            reasons.append(f"{quote(part.strip())} written as %")
        elif (column == "effort" and key in _MONTHS) or key in units or part.strip().lower() in units:
            reasons.append("a unit in the cell")
        else:
            return None, ""
    if column == "confidence" and not any(scale for _, scale in numbers):
        values = [float(number) for number, _ in numbers]
        if all(1 < v <= 100 for v in values):
            # Only a header that says % makes 80 a percentage: under 'Confidence (1-10)' 7 is 70%.
            if not units & ({"%"} | _PERCENT):
                return None, ("not fixed: a confidence without % may be a percentage or a score on another "
                              "scale (such as 1 to 10); write it as a percentage (80%) or a fraction (0.8)")
            numbers = [(number, "%") for number, _ in numbers]
            reasons.append("a percentage written without %")
    if m["dash"] and numbers[1][1] and not numbers[0][1] and float(numbers[0][0]) < float(numbers[1][0]):
        # '2-4k' means 2k..4k: the bare numbers rise, so the low end has the high end's scale ('500-2k' has not).
        numbers[0] = (numbers[0][0], numbers[1][1])
    texts = [number + scale for number, scale in numbers]
    if m["dash"]:
        low, high = (parse_estimate(t, None).median() for t in texts)
        if not low < high:
            return None, f"not fixed: {texts[0]} is not below {texts[1]}, so this is no range low..high"
        reasons.append(f"a range written with {'to' if m['dash'].lower() == 'to' else 'a dash'}")
    proposal = "..".join(texts)
    if proposal == cell or not _parses(proposal, column):
        return None, ""
    return proposal, "; ".join(reasons)


def propose_fix(column: str, text: str, units: Iterable[str] = ()) -> str | None:
    """The corrected text of a cell that does not parse, when one reading is unambiguous; else None."""
    return explain_fix(column, text, units)[0]
