"""Browser-test harness: open a local HTML file in headless Chromium, offline, and report on it.

Not a test module (no ``test_`` prefix): tests import it as ``from browser import open_offline``
and take the session-scoped ``browser`` fixture from ``tests/conftest.py``.

    def test_report_renders(browser, tmp_path):
        report = open_offline(browser, tmp_path / "report.html", pdf_path=tmp_path / "report.pdf")
        assert report.external_requests == [] and report.console_errors == []
        assert all(w > 0 and h > 0 for w, h in report.svg_sizes)

Chromium is Debian's (``/usr/bin/chromium``), driven by the ``playwright`` Python package;
never run ``playwright install`` (it downloads a browser, and there is no internet here).
``.ci/run`` installs the Debian package in CI. Without Chromium or playwright the fixture skips
the test on a laptop, but fails it when ``CI=true``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # playwright is a dev dependency; importing this module must not need it
    from playwright.sync_api import Browser, ConsoleMessage, Error, Request, Route

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"  # git-ignored
CHROMIUM = Path("/usr/bin/chromium")
# As root, without a display, on a machine whose only network is the package registries:
# no sandbox, no GPU, and none of Chromium's own background connections.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1280, "height": 900}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def unavailable(reason: str) -> None:
    """Skip on a laptop; in CI a missing browser is a broken set-up, so fail loudly."""
    if in_ci():
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@contextmanager
def launch_chromium(executable: Path = CHROMIUM, *, headless: bool = True) -> Iterator[Browser]:
    """Start Debian's Chromium through Playwright; skip/fail (see ``unavailable``) if missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable(f"the playwright package is not installed ({exc}); pip install -e '.[dev]'")
    if not (executable.is_file() and os.access(executable, os.X_OK)):
        unavailable(f"{executable} not found; apt-get install -y chromium (never `playwright install`)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(executable), headless=headless,
                                     args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageReport:
    """What one offline page load showed."""

    url: str
    external_requests: list[str] = field(default_factory=list)  # blocked: every non-file: URL
    console_errors: list[str] = field(default_factory=list)  # console.error(), uncaught errors,
    #   failed local loads; not the aborts of external requests (listed above instead)
    svg_sizes: list[tuple[float, float]] = field(default_factory=list)  # every <svg>'s bounding box
    text: str = ""  # document.body.innerText (screen media)
    screenshot: Path | None = None  # full-page PNG (screen media)
    pdf: Path | None = None  # A4 PDF with print media emulated, when asked for
    pdf_pages: int | None = None
    failed_requests: list[str] = field(default_factory=list)  # local (file:) loads that failed

    @property
    def ok(self) -> bool:
        """Self-contained and quiet: nothing external, no errors, no broken local references."""
        return not (self.external_requests or self.console_errors or self.failed_requests)


_SVG_BOXES = """() => Array.from(document.querySelectorAll('svg'), el => {
    const r = el.getBoundingClientRect();
    return [r.width, r.height];
})"""
_BLOCKED_LOAD_ERROR = "Failed to load resource: net::ERR_BLOCKED_BY_CLIENT"
_INNER_TEXT = "() => (document.body || document.documentElement).innerText"


def _default_artifact(html: Path, suffix: str) -> Path:
    return ARTIFACTS / f"{html.stem}{suffix}"


def _count_pdf_pages(pdf: bytes) -> int:
    # Chromium (Skia) writes one uncompressed "/Type /Page" dictionary per page.
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


def open_offline(
    browser: Browser,
    path: str | Path,
    screenshot: str | Path | None | bool = None,
    *,
    pdf_path: str | Path | None = None,
    timeout_ms: float = 30_000,
    viewport: dict[str, int] | None = None,
) -> PageReport:
    """Open the local HTML file ``path`` in a fresh context with the network cut off.

    Every request whose URL does not start with ``file:`` is aborted and listed in
    ``external_requests`` (so a report that pulls a CDN script or a web font shows up here
    rather than silently rendering differently offline). ``console.error`` messages and
    uncaught page errors are collected. After ``load`` (and web fonts settling) the report holds
    the bounding-box size of every ``<svg>`` and the page's ``innerText``.

    ``screenshot``: where to save a full-page PNG; ``None`` means ``artifacts/<stem>.png`` under
    the project root, ``False`` means no screenshot. ``pdf_path``: if given, print media is then
    emulated and the page saved as an A4 PDF there (``pdf_pages`` counts its pages).
    Parent directories are created.
    """
    html = Path(path).resolve()
    if not html.is_file():
        raise FileNotFoundError(html)
    report = PageReport(url=html.as_uri())

    def on_route(route: Route) -> None:
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            report.external_requests.append(url)
            route.abort("blockedbyclient")

    def on_console(msg: ConsoleMessage) -> None:
        # Our own aborts log "Failed to load resource: net::ERR_BLOCKED_BY_CLIENT..."; they are
        # already in external_requests, so only the page's own errors are kept here.
        if msg.type == "error" and not msg.text.startswith(_BLOCKED_LOAD_ERROR):
            report.console_errors.append(msg.text)

    def on_page_error(error: Error) -> None:
        name = getattr(error, "name", "") or "Error"
        report.console_errors.append(f"{name}: {error.message}")

    def on_request_failed(request: Request) -> None:
        if request.url.startswith("file:"):
            report.failed_requests.append(f"{request.url} ({request.failure})")

    def on_websocket(ws: Any) -> None:  # websockets bypass page.route: count them too
        report.external_requests.append(ws.url)

    context = browser.new_context(viewport=viewport or VIEWPORT, service_workers="block")
    try:
        context.set_default_timeout(timeout_ms)
        page = context.new_page()
        page.route("**/*", on_route)
        page.on("console", on_console)
        page.on("pageerror", on_page_error)
        page.on("requestfailed", on_request_failed)
        page.on("websocket", on_websocket)

        page.goto(report.url, wait_until="load", timeout=timeout_ms)
        page.evaluate("() => document.fonts.ready.then(() => true)")
        report.svg_sizes = [(float(w), float(h)) for w, h in page.evaluate(_SVG_BOXES)]
        report.text = page.evaluate(_INNER_TEXT) or ""

        if screenshot is not False:
            shot = _default_artifact(html, ".png") if screenshot in (None, True) else Path(screenshot)
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
            report.screenshot = shot

        if pdf_path is not None:
            pdf = Path(pdf_path)
            pdf.parent.mkdir(parents=True, exist_ok=True)
            page.emulate_media(media="print")
            data = page.pdf(path=str(pdf), format="A4", print_background=True)
            report.pdf, report.pdf_pages = pdf, _count_pdf_pages(data)
        # Late errors (e.g. a timer firing after load) are caught up to this point.
        page.close()
    finally:
        context.close()
    return report
