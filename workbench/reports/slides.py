"""The quarterly report as a short 16:9 deck (python-pptx): `workbench report quarterly --format pptx`.

    deck = quarterly_deck(job, "reports/2026Q4-quarterly.pptx")   # job: `run.check_parameters(...)`

`quarterly_deck` runs the same public pipeline on the same `Settings` as the report template
(`workbench.run`, `pipeline.frontier`, `pipeline.sweep`, `pipeline.analyses(tornado=True)`), so
the deck and the report show the same numbers. `write_slides` lays out: a title slide (quarter,
portfolio), the executive brief (`brief.Brief`: recommendation, value, risk, sensitivity, what
changed), the recommended plan as a native table (names in full, values with their unit), one
slide per main chart (PNG rendered offline by vl-convert from the shared `views.charts`) under a
one-line takeaway title with its "How to read this" text, and the assumptions. Body text is 14 pt
or larger; a text that does not fit at 14 pt goes on to a continuation slide, never cut.
"""

from __future__ import annotations

import datetime as _dt
import io
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io.files import write_atomic
from ..views import charts as ch
from ..views.analysis_tables import empty_reason, explain, frontier_sentence, nothing_to_show
from ..views.brief import Brief
from ..views.format import PM_NOTE, amount, half_width, input_label, number, pm, probability
from ..views.tables import everyone_in_top_k, plan_frame, plan_numeric, ranking_note, ranking_ties

WIDTH_EMU, HEIGHT_EMU = 12_192_000, 6_858_000  # 16:9, PowerPoint's widescreen size
WIDTH_IN, HEIGHT_IN = WIDTH_EMU / 914_400, HEIGHT_EMU / 914_400  # 13.33 x 7.5 inches
MARGIN_IN = 0.5
TITLE_PT, BODY_PT, MIN_PT = 26, 18, 14
TABLE_PT, TABLE_ROWS = 14, 13  # at most this many plan rows per slide
HEADER_IN, ROW_IN = 0.55, 0.34  # a 14 pt line and the cell margins
INK, ACCENT, MUTED = (0x22, 0x22, 0x22), (0x1F, 0x3B, 0x63), (0x66, 0x66, 0x66)


@dataclass
class SlideChart:
    """One chart slide: a takeaway title, the chart as PNG, and its plain-words reading."""

    title: str
    png: bytes
    read: str = ""
    note: str = ""


# --- charts as PNG ---------------------------------------------------------------------------


def chart_png(chart, scale: float = 2.0) -> bytes:
    """An altair chart as PNG for a slide: larger type than in print, rendered offline from the
    chart's SVG (`charts.to_svg`: no external reference, control characters removed)."""
    import vl_convert as vlc

    big = (chart.configure_axis(labelFontSize=13, titleFontSize=14)
           .configure_title(fontSize=18, subtitleFontSize=14)
           .configure_legend(labelFontSize=13, titleFontSize=13))
    return vlc.svg_to_png(ch.to_svg(big), scale=scale)


def _png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's header."""
    return struct.unpack(">II", png[16:24])


def slide_charts(outcome, *, frontier=None, sweep=None, analyses=None) -> list[SlideChart]:
    """The deck's chart slides with takeaway titles: P(top k), the plan's value, the frontier (when
    there is a trade-off to show), the budget sweep, the tornado (when estimates have ranges)."""
    r, s, plan = outcome.result, outcome.settings, outcome.plan
    unit, k, names = s.value_unit, s.top_k, dict(zip(outcome.portfolio.ids, outcome.portfolio.names))
    budget_unit = _budget_unit(s)
    note = " ".join(t for t in (ranking_note(r, k), PM_NOTE) if t)
    slides = [SlideChart(_ranking_title(r, k), chart_png(ch.top_k_probability(r, k)),
                         explain("ranking", k=k, alpha=s.alpha, unit=unit), note)]
    if plan is None:
        return slides
    m = plan.metrics()
    slides.append(SlideChart(
        f"The plan is worth {pm(m['expected_value'], half_width(m['expected_value_se']))} {unit} on average; "
        f"80% of outcomes fall between {number(m['p10'])} and {number(m['p90'])}",
        chart_png(ch.plan_value_distribution(plan, unit=unit)), explain("cvar", k=k, alpha=plan.alpha, unit=unit),
        PM_NOTE))
    reason = empty_reason(outcome)
    if frontier is not None:
        if (why := frontier_sentence(outcome, frontier)) is not None:
            slides.append(_text_chart("No risk trade-off to show", why))
        else:
            beats = frontier.beats(plan)
            if beats:
                title = (f"{len(beats)} plan{'s' if len(beats) > 1 else ''} on the curve beat the recommended plan "
                         "on both axes: the selection scenarios could not tell them apart")
            elif any(np.array_equal(p.funded, plan.funded) for p in frontier.plans):
                title = "The recommended plan is on the frontier: more expected value means a worse bad case"
            else:
                title = "Safer plans trade expected value for a better bad case"
            slides.append(SlideChart(title, chart_png(ch.efficient_frontier(frontier, plan, unit=unit)),
                                     explain("frontier", k=k, alpha=plan.alpha, unit=unit)))
    if sweep is not None:
        chart = ch.budget_sweep(sweep, s.budget, unit=unit, budget_unit=budget_unit)
        slides.append(SlideChart(_sweep_title(sweep, s.budget, unit, budget_unit), chart_png(chart),
                                 explain("sweep", k=k, alpha=plan.alpha, unit=unit)))
    tornado = None if analyses is None else analyses.tornado
    if tornado is not None and len(tornado):
        top = tornado.sort_values("swing", ascending=False, kind="stable").iloc[0]
        slides.append(SlideChart(
            f"{input_label(top['input'], names)} moves the plan's value most: by {amount(top['swing'], unit)} "
            "from its p10 to its p90", chart_png(ch.tornado(tornado, names=names, unit=unit)),
            explain("tornado", k=k, alpha=plan.alpha, unit=unit)))
    elif tornado is not None:
        slides.append(_text_chart("Which assumptions matter?", nothing_to_show("tornado", reason or "no_ranges")))
    return slides


def _budget_unit(s) -> str:
    """The budget's unit in the settings' terms: person-months, or the cost column's."""
    return "person-months" if s.budget_column == "effort" else "(cost column)"


def _names_text(names: list[str]) -> str:
    """"A and B", "A, B and C", "A, B and 3 others"."""
    if len(names) > 3:
        return f"{', '.join(names[:2])} and {len(names) - 2} others"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _ranking_title(r, k: int) -> str:
    """The ranking slide's takeaway, true to the figures: the surest bet with its P(top k), the
    initiatives statistically tied for it, or that k covers everyone (P(top k) is 1 for each)."""
    if everyone_in_top_k(r, k):
        return (f"All {len(r.portfolio)} initiatives are in the top {k} by construction: choose a smaller k "
                "to tell the surest bets apart")
    summary = r.summary(k)
    ties = ranking_ties(r, k, summary)
    first = summary.index[0]
    if ties.at[first, "last"] > 1:
        tied = [str(n) for n, last in zip(summary["name"], ties["last"]) if last == ties.at[first, "last"]]
        return (f"{_names_text(tied)} are statistically tied for the surest bet: the simulation cannot tell "
                f"which is likeliest to be in the top {k}")
    half = dict(zip(r.portfolio.ids, r.half_width(k)))
    samples = r.samples if r.method == "mc" else None
    return (f"{summary['name'].iloc[0]} is the surest bet: in the top {k} with probability "
            f"{probability(summary['p_top_k'].iloc[0], half[first], samples)}")


def _text_chart(title: str, text: str) -> SlideChart:
    """A chart slide with nothing to draw: the sentence saying why."""
    return SlideChart(title, b"", text)


def _sweep_title(sweep, budget: float, unit: str, budget_unit: str = "person-months") -> str:
    ok = sweep[sweep["expected_value"].notna()]
    if not len(ok):
        return "No budget in the sweep fits the must-haves"
    at = ok[np.isclose(ok["budget"].to_numpy(float), float(budget))]
    low, high = ok.iloc[0], ok.iloc[-1]
    span = (f"from {amount(low['expected_value'], unit)} at {number(round(float(low['budget']), 9))} to "
            f"{number(high['expected_value'])} at {number(round(float(high['budget']), 9))} {budget_unit}")
    if len(at) and not np.isnan(at["marginal_value"].iloc[0]):
        row = at.iloc[0]
        one = "person-month" if budget_unit == "person-months" else "budget unit"
        return (f"At {number(budget)} {budget_unit} one more {one} adds about "
                f"{amount(row['marginal_value'], unit)}; the best plan goes {span}")
    return f"The best plan's value goes {span}"


# --- layout ----------------------------------------------------------------------------------


def _fits(texts: list[str], size: float, width_in: float, height_in: float, gap_pt: float = 6) -> bool:
    """Whether paragraphs fit a box at `size` pt, by a conservative estimate (average character
    width 0.55 em, line height 1.2 em)."""
    per_line = max(1, int(width_in * 72 / (0.55 * size)))
    lines = sum(max(1, -(-len(t) // per_line)) for t in texts)
    return lines * size * 1.2 + gap_pt * len(texts) <= height_in * 72


def _font_size(texts: list[str], width_in: float, height_in: float) -> float | None:
    """The largest body size from BODY_PT down to MIN_PT at which `texts` fit, None if none does."""
    for size in range(BODY_PT, MIN_PT - 1, -1):
        if _fits(texts, size, width_in, height_in):
            return size
    return None


class _Deck:
    """A python-pptx presentation with this deck's few slide kinds."""

    def __init__(self):
        from pptx import Presentation
        from pptx.util import Emu, Inches

        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = Emu(WIDTH_EMU), Emu(HEIGHT_EMU)
        self.inches = Inches

    def _slide(self, title: str):
        """A "Title Only" slide with its title across the top, at most two lines, never cut."""
        from pptx.util import Pt

        slide = self.prs.slides.add_slide(self.prs.slide_layouts[5])
        shape, inch = slide.shapes.title, self.inches
        shape.left, shape.top, shape.width, shape.height = (inch(MARGIN_IN), inch(0.3), inch(WIDTH_IN - 2 * MARGIN_IN),
                                                            inch(1.1))
        size = TITLE_PT if _fits([title], TITLE_PT, WIDTH_IN - 2 * MARGIN_IN, 1.1, 0) else 20
        frame = shape.text_frame
        frame.word_wrap = True
        frame.text = title
        for p in frame.paragraphs:
            p.alignment = _align('left')
            for run in p.runs:
                run.font.size, run.font.bold = Pt(size), True
                run.font.color.rgb = _rgb(ACCENT)
        return slide

    def _text(self, slide, paragraphs: list[tuple[str, str]], left: float, top: float, width: float, height: float,
              size: float, colour=INK) -> None:
        """A text box of (bold label, text) paragraphs at `size` pt."""
        from pptx.util import Pt

        box = slide.shapes.add_textbox(*(self.inches(x) for x in (left, top, width, height)))
        frame = box.text_frame
        frame.word_wrap = True
        for k, (label, text) in enumerate(paragraphs):
            p = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
            p.space_after = Pt(6)
            for part, bold in ((label, True), (text, False)):
                if part:
                    run = p.add_run()
                    run.text = part
                    run.font.size, run.font.bold = Pt(size), bold
                    run.font.color.rgb = _rgb(colour)

    def title_slide(self, heading: str, lines: list[str]) -> None:
        from pptx.enum.shapes import MSO_SHAPE

        slide = self.prs.slides.add_slide(self.prs.slide_layouts[6])  # blank
        bar = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, self.inches(MARGIN_IN), self.inches(2.1),
                                     self.inches(1.5), self.inches(0.12))
        bar.fill.solid()
        bar.fill.fore_color.rgb = _rgb(ACCENT)
        bar.line.fill.background()
        self._text(slide, [("", heading)], MARGIN_IN, 2.3, WIDTH_IN - 2 * MARGIN_IN, 1.2, 40, ACCENT)
        self._text(slide, [("", line) for line in lines], MARGIN_IN, 3.6, WIDTH_IN - 2 * MARGIN_IN, 2.5, 20, MUTED)

    def text_slides(self, title: str, paragraphs: list[tuple[str, str]], note: str = "") -> None:
        """Paragraphs under a title, at the largest size that fits (≥ 14 pt), continued on further
        slides when even 14 pt does not fit."""
        width, height = WIDTH_IN - 2 * MARGIN_IN, HEIGHT_IN - 1.6 - 0.6
        pages, page = [], []
        for para in paragraphs:
            if page and _font_size([a + b for a, b in [*page, para]], width, height) is None:
                pages.append(page)
                page = []
            page.append(para)
        pages.append(page)
        for n, page in enumerate(pages):
            slide = self._slide(title if n == 0 else f"{title} (continued)")
            size = _font_size([a + b for a, b in page], width, height) or MIN_PT
            self._text(slide, page, MARGIN_IN, 1.5, width, height, size)
            if note:
                self._text(slide, [("", note)], MARGIN_IN, HEIGHT_IN - 0.6, width, 0.4, MIN_PT, MUTED)

    def table_slides(self, title: str, frame, numeric: tuple[str, ...], note: str = "") -> None:
        """A native table, at most TABLE_ROWS rows a slide (shared evenly), names in full (cells wrap,
        never cut)."""
        from pptx.util import Pt

        columns = [str(c) for c in frame.columns]
        count = max(1, -(-len(frame) // TABLE_ROWS))  # slides, rows shared evenly among them
        bounds = np.linspace(0, len(frame), count + 1).round().astype(int)
        chunks = [frame.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        total = WIDTH_IN - 2 * MARGIN_IN
        widths = _column_widths(frame, total)
        for n, chunk in enumerate(chunks):
            name = title if n == 0 else f"{title} (continued, {n + 1} of {len(chunks)})"
            slide = self._slide(name)
            # Row heights are minimums: a row grows to fit its text (a wrapped name), never cuts it.
            heights = [HEADER_IN] + [ROW_IN] * len(chunk)
            shape = slide.shapes.add_table(len(heights), len(columns), self.inches(MARGIN_IN), self.inches(1.45),
                                           self.inches(total), self.inches(sum(heights)))
            table = shape.table
            for j, width in enumerate(widths):
                table.columns[j].width = self.inches(width)
            for i, height in enumerate(heights):
                table.rows[i].height = self.inches(height)
            for i, row in enumerate([columns, *chunk.astype(str).values.tolist()]):
                for j, value in enumerate(row):
                    cell = table.cell(i, j)
                    cell.text = str(value)
                    for p in cell.text_frame.paragraphs:
                        p.alignment = _align('right' if columns[j] in numeric else 'left')
                        for run in p.runs:
                            run.font.size, run.font.bold = Pt(TABLE_PT), i == 0
            if note:
                self._text(slide, [("", note)], MARGIN_IN, HEIGHT_IN - 0.6, total, 0.4, MIN_PT, MUTED)

    def chart_slide(self, chart: SlideChart) -> None:
        """The chart on the left (scaled to fit, aspect kept), its reading on the right."""
        slide = self._slide(chart.title)
        top, height = 1.5, HEIGHT_IN - 1.5 - 0.4
        side = 3.9
        if not chart.png:  # nothing to draw: the sentence saying why, full width
            self._text(slide, [("", chart.read)], MARGIN_IN, top, WIDTH_IN - 2 * MARGIN_IN, 2, BODY_PT)
            return
        box_w = WIDTH_IN - 2 * MARGIN_IN - side - 0.3
        w, h = _png_size(chart.png)
        scale = min(box_w / w, height / h)
        slide.shapes.add_picture(io.BytesIO(chart.png), self.inches(MARGIN_IN), self.inches(top),
                                 self.inches(w * scale), self.inches(h * scale))
        texts = [("How to read this. ", chart.read)] + ([("", chart.note)] if chart.note else [])
        size = _font_size([a + b for a, b in texts], side, height) or MIN_PT
        self._text(slide, texts, WIDTH_IN - MARGIN_IN - side, top, side, height, size)

    def save(self) -> bytes:
        out = io.BytesIO()
        self.prs.save(out)
        return out.getvalue()


def _column_widths(frame, total: float) -> list[float]:
    """Column widths (inches) summing to `total`: the name column as wide as its longest name (at
    most half the table; longer names wrap, never cut), the others by their longest cell or title word."""
    def chars(j: int) -> int:
        cells = [len(str(v)) for v in frame.iloc[:, j]]
        words = [len(w) for w in str(frame.columns[j]).split()]
        return max(cells + words + [len(str(frame.columns[j])) // 2])

    inch = TABLE_PT * 0.55 / 72  # inches per character
    first = min(chars(0) * inch + 0.3, total / 2)
    need = [chars(j) * inch + 0.3 for j in range(1, frame.shape[1])]
    spare = total - first
    return [first, *(spare * n / sum(need) for n in need)] if need else [total]


def _align(where: str):
    from pptx.enum.text import PP_ALIGN

    return PP_ALIGN.RIGHT if where == "right" else PP_ALIGN.LEFT


def _rgb(colour):
    from pptx.dml.color import RGBColor

    return RGBColor(*colour)


def write_slides(path: str | Path, outcome, *, brief: Brief, charts: list[SlideChart], quarter: str,
                 taken: _dt.date | None = None) -> Path:
    """Write the deck (see the module docstring) to `path` atomically; returns the path."""
    s, plan = outcome.settings, outcome.plan
    source = Path(outcome.portfolio.source).name if outcome.portfolio.source else "the demo portfolio"
    budget_unit = _budget_unit(s)
    deck = _Deck()
    deck.title_slide(f"Quarterly portfolio review {quarter}",
                     [f"{source}: {len(outcome.portfolio)} initiatives",
                      f"Budget {amount(s.budget, budget_unit)} · values in {s.value_unit}",
                      f"{(taken or _dt.date.today()).isoformat()} · seed {s.seed}, {number(s.samples)} samples"])
    rows = [("Value: ", brief.value), ("Delivery risk: ", brief.risk)]
    rows += [("Sensitivity: ", brief.sensitivity)] if brief.sensitivity else []
    rows += [("What changed: ", brief.changes)] if brief.changes else []
    rows += [("Calibrated ranges: ", brief.calibration)] if getattr(brief, "calibration", "") else []
    deck.text_slides(brief.recommendation, rows, brief.note)
    frame = plan_frame(plan, s.value_unit)
    m = plan.metrics()
    deck.table_slides(f"The recommended plan: {len(plan.selected)} initiatives, "
                      f"{pm(m['expected_value'], half_width(m['expected_value_se']))} {s.value_unit} expected",
                      frame, tuple(c for c in plan_numeric(s.value_unit) if c in frame.columns), PM_NOTE)
    for chart in charts:
        deck.chart_slide(chart)
    deck.text_slides("What the plan assumes", [("• ", a) for a in brief.assumptions], brief.note)
    path = Path(path)
    write_atomic(path, deck.save())
    return path


# --- the quarterly deck from a report job ------------------------------------------------------


def quarterly_deck(job, path: str | Path, *, progress: Callable[[int, int], None] | None = None) -> Path:
    """The quarterly deck of a checked report job (`run.check_parameters`): the template's pipeline
    on the job's settings, then `write_slides`. progress(done, total) follows the steps."""
    import workbench as wb

    from .. import pipeline
    from ..views.brief import brief as make_brief
    from .changes import changes_since
    from .run import ReportJob, previous_settings

    steps = 5

    def step(k: int) -> None:
        if progress is not None:
            progress(k, steps)

    port = job.load()
    outcome = wb.run(port, job.settings)
    if outcome.plan is None:
        raise outcome.failure
    step(1)
    analysis = pipeline.analyses(outcome, tornado=True)
    step(2)
    front = pipeline.frontier(outcome)
    step(3)
    sweep = pipeline.sweep(outcome)
    step(4)
    changes = None
    if job.previous_portfolio:  # last quarter, ranked and planned with the same sampling and budget
        before = ReportJob(job.previous_portfolio, job.quarter, "", job.settings).load()
        outcome_before = wb.run(before, previous_settings(job.settings, before))
        plan_before = outcome_before.plan.selected if outcome_before.plan is not None else None
        changes = changes_since(before, port, outcome_before.result, outcome.result, job.settings.top_k,
                                plan_before=plan_before, plan_now=outcome.plan.selected)
    b = make_brief(outcome, drivers=analysis.tornado, switches=analysis.switch_points, changes=changes,
                   title="Executive brief")
    charts = slide_charts(outcome, frontier=front, sweep=sweep, analyses=analysis)
    written = write_slides(path, outcome, brief=b, charts=charts, quarter=job.quarter)
    step(5)
    return written
