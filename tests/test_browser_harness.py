"""The browser-test harness (tests/browser.py) on small HTML pages made here."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from browser import ARTIFACTS, launch_chromium, open_offline

NOISY_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>noisy</title>
<style>body { font-family: sans-serif; margin: 0; padding: 16px; }</style></head>
<body>
  <h1>Harness self-test</h1>
  <svg id="chart" xmlns="http://www.w3.org/2000/svg" width="240" height="120" viewBox="0 0 240 120">
    <rect x="0" y="0" width="240" height="120" fill="#dbeafe"/>
    <rect x="20" y="40" width="60" height="70" fill="#2563eb"/>
    <rect x="100" y="20" width="60" height="90" fill="#16a34a"/>
    <text x="170" y="60" font-size="14">bars</text>
  </svg>
  <p>Remote image below (must be blocked):</p>
  <img src="https://example.com/x.png" alt="remote" width="32" height="32">
  <script>console.error("boom from the page"); console.log("not an error");</script>
</body></html>
"""

CLEAN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>clean</title>
<style>
  body { font-family: serif; font-size: 12pt; margin: 24px; }
  @media print { .screen-only { display: none; } }
</style></head>
<body>
  <h1>Self-contained report</h1>
  <p>Initiative A scores 42.0 (95% interval 30.1 to 55.7).</p>
  <p class="screen-only">Only on screen.</p>
  <svg xmlns="http://www.w3.org/2000/svg" width="300" height="150">
    <circle cx="75" cy="75" r="60" fill="tomato"/>
  </svg>
  <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 50" style="width: 400px">
    <line x1="0" y1="25" x2="100" y2="25" stroke="black"/>
  </svg>
  <script>document.body.insertAdjacentHTML("beforeend", "<p>script ran</p>");</script>
</body></html>
"""


def _write(tmp_path: Path, name: str, html: str) -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_noisy_page_reports_console_error_external_request_and_svg(browser, tmp_path):
    page = _write(tmp_path, "noisy.html", NOISY_PAGE)
    shot = tmp_path / "shots" / "noisy.png"  # parent does not exist yet
    report = open_offline(browser, page, screenshot=shot)

    assert report.external_requests == ["https://example.com/x.png"]
    assert report.console_errors == ["boom from the page"]  # console.log and the blocked load are not errors
    assert report.svg_sizes == [(240.0, 120.0)]
    assert "Harness self-test" in report.text and "Remote image below" in report.text
    assert not report.ok
    assert report.screenshot == shot and shot.is_file()
    width, height = _png_size(shot)
    assert width == 1280 and height >= 900  # full page at the default viewport


def test_clean_page_has_no_requests_or_errors_and_prints_to_a4(browser, tmp_path):
    page = _write(tmp_path, "clean.html", CLEAN_PAGE)
    pdf = tmp_path / "out" / "clean.pdf"
    report = open_offline(browser, page, screenshot=tmp_path / "clean.png", pdf_path=pdf)

    assert report.external_requests == []
    assert report.console_errors == []
    assert report.failed_requests == []
    assert report.ok
    assert report.svg_sizes == [(300.0, 150.0), (400.0, 200.0)]
    assert "Self-contained report" in report.text and "script ran" in report.text
    assert "Only on screen." in report.text  # text is read with screen media, before printing
    assert pdf.read_bytes().startswith(b"%PDF-") and report.pdf == pdf
    assert report.pdf_pages == 1


@pytest.mark.parametrize("snippet, url", [
    ('<link rel="stylesheet" href="https://cdn.example.org/style.css">', "https://cdn.example.org/style.css"),
    ('<script src="http://cdn.example.org/vega.js"></script>', "http://cdn.example.org/vega.js"),
    ('<div style="background: url(https://example.net/bg.png); height: 10px"></div>', "https://example.net/bg.png"),
    ('<script>fetch("https://api.example.com/data").catch(() => {});</script>', "https://api.example.com/data"),
    ('<iframe src="https://example.com/embed"></iframe>', "https://example.com/embed"),
])
def test_every_kind_of_external_reference_is_blocked_and_counted(browser, tmp_path, snippet, url):
    page = _write(tmp_path, "ext.html", f"<!doctype html><html><body><p>x</p>{snippet}</body></html>")
    report = open_offline(browser, page, screenshot=False)
    assert report.external_requests == [url]
    assert report.console_errors == []  # the abort itself is not reported as a page error
    assert report.screenshot is None


def test_uncaught_error_is_reported(browser, tmp_path):
    page = _write(tmp_path, "throws.html",
                  "<!doctype html><body><p>ok</p><script>undefinedFunction();</script></body>")
    report = open_offline(browser, page, screenshot=False)
    assert len(report.console_errors) == 1
    assert "undefinedFunction" in report.console_errors[0]
    assert report.external_requests == []


def test_local_files_load_and_missing_ones_are_reported(browser, tmp_path):
    (tmp_path / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>')
    page = _write(tmp_path, "local.html",
                  '<!doctype html><body><img src="logo.svg"><img src="missing.png"></body>')
    report = open_offline(browser, page, screenshot=False)
    assert report.external_requests == []
    assert len(report.failed_requests) == 1 and "missing.png" in report.failed_requests[0]
    assert report.console_errors == ["Failed to load resource: net::ERR_FILE_NOT_FOUND"]
    assert not report.ok


def test_screenshot_defaults_to_the_artifacts_folder(browser, tmp_path):
    page = _write(tmp_path, "browser-harness-selftest.html", CLEAN_PAGE)
    report = open_offline(browser, page)
    assert report.screenshot == ARTIFACTS / "browser-harness-selftest.png"
    assert report.screenshot.is_file() and _png_size(report.screenshot)[0] == 1280


def test_missing_chromium_skips_on_a_laptop_and_fails_in_ci(monkeypatch, tmp_path):
    missing = tmp_path / "no-chromium"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception), launch_chromium(missing):
        pass
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run in CI"), launch_chromium(missing):
        pass


def test_long_page_prints_to_several_a4_pages(browser, tmp_path):
    rows = "".join(f"<p>Initiative {i}: RICE 12.{i}</p>" for i in range(200))
    page = _write(tmp_path, "long.html", f"<!doctype html><body>{rows}</body>")
    report = open_offline(browser, page, screenshot=False, pdf_path=tmp_path / "long.pdf")
    assert report.pdf_pages is not None and report.pdf_pages > 1
    assert "Initiative 199: RICE 12.199" in report.text
