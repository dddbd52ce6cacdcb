"""The dashboard's "calibrated ranges" checkbox, without a browser: widget state → settings → numbers.

The checkbox sets `Settings.calibration` through the same path as every control (`Controls.moved`,
then `Settings.for_portfolio`); the engine then corrects the ranges. The corrected medians are
checked against the calibration file's own shifts (a lognormal range's median moves by exactly
e^b), and switching back must give the ranges as typed, digit for digit.
"""

from __future__ import annotations

import pytest

from workbench import Dashboard, Settings, demo_portfolio, run
from workbench.calibration import calibrate, load_calibration, save_calibration


@pytest.fixture(scope="module")
def calibration_file(tmp_path_factory):
    return save_calibration(calibrate().calibration, tmp_path_factory.mktemp("cal") / "calibration.json")


@pytest.fixture(scope="module")
def dash(calibration_file, tmp_path_factory):
    d = Dashboard(demo_portfolio(), budget=40, capacities={"Payments": 12, "Growth": 8}, samples=2_000,
                  scenarios=100, debounce=0.01, calibration=str(calibration_file),
                  output_dir=str(tmp_path_factory.mktemp("reports")))
    assert d.wait(300)
    yield d
    assert d.close()


def _growth_effort_medians(outcome) -> dict[str, float]:
    return {ini.id: ini.effort.median() for ini in outcome.portfolio if ini.team == "Growth"}


def test_the_checkbox_shows_and_is_on_when_the_session_starts_calibrated(dash, calibration_file):
    box = dash.controls.calibrated
    assert box.value is True and box.layout.display is None and box.description == "calibrated ranges"
    assert dash.settings.calibration == str(calibration_file)
    status = dash._status.value
    assert "calibrated ranges (learned from 8 quarters" in status and "effort of team Growth ×" in status
    # The same numbers as the pipeline on the same settings (a fresh engine, as the CLI runs it).
    fresh = run(demo_portfolio(), dash.settings)
    assert fresh.plan.selected == dash.outcome.plan.selected
    assert fresh.plan.expected_value == dash.outcome.plan.expected_value


def test_unticking_shows_the_ranges_as_typed_and_ticking_brings_the_correction_back(dash, calibration_file):
    typed = {ini.id: ini.effort.median() for ini in demo_portfolio() if ini.team == "Growth"}
    shift = load_calibration(calibration_file).correction("effort", "Growth").shift
    calibrated = _growth_effort_medians(dash.outcome)
    # A lognormal range's median moves by exactly the shift e^b (3 significant digits in the range text).
    assert all(calibrated[i] == pytest.approx(typed[i] * shift, rel=0.01) for i in typed)
    on = dash.outcome.plan

    dash.controls.calibrated.value = False  # a person unticks the box
    assert dash.wait(300)
    assert dash.settings.calibration is None and dash.outcome.settings.calibration is None
    assert _growth_effort_medians(dash.outcome) == typed  # ranges as typed, exactly
    assert "ranges as typed" in dash._status.value and "calibrated ranges (" not in dash._status.value
    off = dash.outcome.plan
    assert off.expected_value != on.expected_value  # the numbers change with the ranges
    assert run(demo_portfolio(), dash.settings).plan.expected_value == off.expected_value
    assert dash.controls.calibrated.layout.display is None  # still offered: the file is known

    dash.controls.calibrated.value = True
    assert dash.wait(300)
    assert dash.settings.calibration == str(calibration_file)
    assert dash.outcome.plan.selected == on.selected and dash.outcome.plan.expected_value == on.expected_value


def test_setting_it_from_code_moves_the_checkbox_and_an_export_keeps_ranges_as_typed(dash, calibration_file,
                                                                                     tmp_path):
    dash.update(calibration=None)
    assert dash.wait(300) and dash.controls.calibrated.value is False
    dash.update(calibration=str(calibration_file))
    assert dash.wait(300) and dash.controls.calibrated.value is True
    # The exported scenario holds the ranges as typed and names the calibration: a report applies it once.
    dash.save_scenario("calibrated")
    exported = dash.book.portfolio("calibrated")
    assert [str(i.effort) for i in exported] == [str(i.effort) for i in demo_portfolio()]
    assert dash.book.exported_settings("calibrated").calibration == str(calibration_file)


def test_without_a_calibration_there_is_no_checkbox_and_the_status_says_nothing_of_it():
    d = Dashboard(demo_portfolio(), Settings(budget=40, samples=1_000, scenarios=100), debounce=0.0)
    try:
        assert d.wait(300)
        assert d.controls.calibrated.layout.display == "none" and d.controls.calibrated.value is False
        # Hiding the checkbox hides nothing else (widgets sharing a Layout share its display).
        hidden = [c for c in (*d.controls.setting_controls(), d.controls.pick) if c.layout.display == "none"]
        assert hidden == [d.controls.calibrated]
        assert "ranges" not in d._status.value
    finally:
        assert d.close()
