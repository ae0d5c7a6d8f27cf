"""The explorer in a real browser: headless Chromium driven by Selenium.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them). Without them the
tests skip, except under ``CI=true``, where a missing browser is a failure.

Set ``PP_EXPLORER_SCREENSHOT=figures/explorer.png`` to write the README's screenshot.
"""

from __future__ import annotations

import html
import os
import shutil
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

import perceptron_pruning as pp
from perceptron_pruning import explore as ex

pytest.importorskip("bokeh")
webdriver = pytest.importorskip("selenium.webdriver")

WAIT = 90.0  # seconds; generous for a loaded 2-core machine

_GET_DATA = """
const m = Bokeh.documents[0].get_model_by_name(arguments[0])
const d = m.data
const out = {}
const entries = d instanceof Map ? [...d.entries()] : Object.entries(d)
for (const [k, v] of entries)
  out[k] = Array.from(v, (x) => (x != null && typeof x === "object") ? Array.from(x) : x)
return out
"""
_GET_PROP = "return Bokeh.documents[0].get_model_by_name(arguments[0])[arguments[1]]"
_ELEMENT = """
const m = Bokeh.documents[0].get_model_by_name(arguments[0])
return Bokeh.index.find_one(m).shadow_el.querySelector(arguments[1])
"""


def _browser_paths():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    reason = "headless Chromium not found (apt-get install chromium chromium-driver)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run the browser tests")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server_url():
    url, stop = ex.serve_in_thread()
    yield url
    stop()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    chromium, driver_path = _browser_paths()
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,900", "--hide-scrollbars"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # for js_errors
    opts.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "profile.default_content_setting_values.automatic_downloads": 1})
    drv = webdriver.Chrome(service=Service(driver_path), options=opts)
    yield drv
    drv.quit()


def wait_for(predicate, what, timeout=WAIT):
    t0 = time.monotonic()
    while True:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - the page may still be loading
            value = None
        if value:
            return value
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def open_page(browser, url):
    browser.get(url)
    wait_for(lambda: browser.execute_script(
        "return window.Bokeh != null && Bokeh.documents.length > 0 && "
        "Bokeh.documents[0].get_model_by_name('url').text.length > 0"), "the page to load")


def data(browser, name):
    return browser.execute_script(_GET_DATA, name)


def prop(browser, name, attr):
    return browser.execute_script(_GET_PROP, name, attr)


def page_state(browser):
    """The state the page shows, read from its own URL bar."""
    query = urlsplit(browser.current_url).query
    state, messages = ex.parse_state({k: v for k, v in parse_qs(query).items()})
    assert messages == []
    return state


def element(browser, model_name, selector):
    return browser.execute_script(_ELEMENT, model_name, selector)


def js_errors(browser):
    """Errors the page's console logged since the last call (reading the log empties it)."""
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_moving_a_slider_redraws_the_theory(browser, server_url):
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(browser, server_url + "?f=1,0.5,0.2&keep=hard&theta=0")
    before = data(browser, "curves")["ys"]
    handle = element(browser, "theta", ".noUi-handle")
    ActionChains(browser).drag_and_drop_by_offset(handle, 45, 0).perform()
    theta = wait_for(lambda: prop(browser, "theta", "value"), "the slider to move")
    assert 0 < theta <= 90
    # The server answers with curves for the new angle; the URL follows.
    wait_for(lambda: page_state(browser).theta == theta, "the redraw")
    ys = data(browser, "curves")["ys"]
    for f, y in zip((1.0, 0.5, 0.2), ys):
        ref = pp.theory.curve(ex.ALPHA_GRID, f=f, keep="hard", theta=theta).eps
        np.testing.assert_allclose(y, ref, rtol=1e-9)
    assert not np.allclose(ys[2], before[2])
    assert prop(browser, "message", "text") == ""


def test_new_controls_redraw_the_theory(browser, server_url):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import Select

    js_errors(browser)
    open_page(browser, server_url + "?f=1,0.3&keep=hard&theta=10&learner=hebb")
    assert not prop(browser, "lam", "visible")  # hebb takes no ridge penalty
    assert prop(browser, "label_aware", "visible") and prop(browser, "score_noise", "visible")
    before = data(browser, "curves")["ys"]
    picture = data(browser, "picture")["kind"]
    # The flip slider: labels flipped at random, in the theory and the picture.
    handle = element(browser, "flip", ".noUi-handle")
    ActionChains(browser).drag_and_drop_by_offset(handle, 60, 0).perform()
    wait_for(lambda: prop(browser, "flip", "value") > 0, "the flip slider to move")
    flip = wait_for(lambda: page_state(browser).flip, "the redraw")
    assert 0 < flip <= 0.4 and flip == pytest.approx(prop(browser, "flip", "value"), abs=1e-6)
    ys = data(browser, "curves")["ys"]
    for f, y in zip((1.0, 0.3), ys):
        ref = pp.theory.curve(ex.ALPHA_GRID, f=f, keep="hard", theta=10.0, learner="hebb",
                              flip=flip).eps
        np.testing.assert_allclose(y, ref, rtol=1e-9)
    assert not np.allclose(ys[1], before[1])
    # The label-aware toggle: a new theory and a new picture (disagreeing labels dropped).
    element(browser, "label_aware", "input").click()
    wait_for(lambda: page_state(browser).label_aware, "the label-aware redraw")
    aware = pp.get_metric("margin", label_aware=True)
    ys = data(browser, "curves")["ys"]
    for f, y in zip((1.0, 0.3), ys):
        ref = pp.theory.curve(ex.ALPHA_GRID, f=f, keep="hard", theta=10.0, learner="hebb",
                              flip=flip, metric=aware).eps
        np.testing.assert_allclose(y, ref, rtol=1e-9)
    kind = data(browser, "picture")["kind"]
    kept = ex.kept_picture(page_state(browser))["kept"]
    np.testing.assert_array_equal(np.array(kind) > 0, kept)
    assert kind != picture
    # A learner with a ridge penalty shows the lam slider.
    Select(element(browser, "learner", "select")).select_by_value("ridge")
    wait_for(lambda: prop(browser, "lam", "visible"), "the lam slider to appear")
    wait_for(lambda: page_state(browser).learner == "ridge", "the ridge redraw")
    handle = element(browser, "lam", ".noUi-handle")
    ActionChains(browser).drag_and_drop_by_offset(handle, -80, 0).perform()
    lam = wait_for(lambda: page_state(browser).lam < 0.1 and page_state(browser).lam,
                   "the lam redraw")
    assert lam == pytest.approx(10 ** prop(browser, "lam", "value"), rel=1e-5)
    ref = pp.theory.curve(ex.ALPHA_GRID, f=0.3, keep="hard", theta=10.0, flip=flip,
                          learner=pp.get_learner("ridge", lam=lam), metric=aware).eps
    np.testing.assert_allclose(data(browser, "curves")["ys"][1], ref, rtol=1e-9)
    assert prop(browser, "message", "text") == ""
    assert js_errors(browser) == []


def test_max_margin_with_label_noise_draws_up_to_the_capacity(browser, server_url):
    js_errors(browser)
    open_page(browser, server_url + "?f=1,0.3&flip=0.1&alpha_tot=10")
    assert page_state(browser).flip == 0.1 and prop(browser, "message", "text") == ""
    ys = np.array(data(browser, "curves")["ys"], dtype=float)  # NaN arrives as null
    for f, y in zip((1.0, 0.3), ys):
        ok = ex.ALPHA_GRID < pp.theory.capacity(f=f, keep="hard", flip=0.1)
        np.testing.assert_array_equal(np.isnan(y), ~ok)
        ref = pp.theory.curve(ex.ALPHA_GRID[ok], f=f, keep="hard", flip=0.1).eps
        np.testing.assert_allclose(y[ok], ref, rtol=1e-9)
    assert "not separable" in prop(browser, "status", "text")
    assert "less data wins" in prop(browser, "status", "text")
    assert js_errors(browser) == []


def test_a_shared_url_reopens_the_same_view(browser, server_url):
    query = ("?keep=easy&f=0.8,0.3&theta=12.5&alpha_tot=3&fpic=0.45&n=60&seeds=3"
             "&learner=ridge&lam=0.01&flip=0.1&label_aware=true")
    open_page(browser, server_url + query)
    shared = browser.current_url
    state = page_state(browser)
    assert state == ex.ViewState(keep="easy", f=(0.8, 0.3), theta=12.5, alpha_tot=3.0,
                                 fpic=0.45, n=60, seeds=3, learner="ridge", lam=0.01, flip=0.1,
                                 label_aware=True)
    assert prop(browser, "theta", "value") == 12.5
    assert prop(browser, "keep", "active") == 1
    assert prop(browser, "flip", "value") == 0.1 and prop(browser, "label_aware", "active")
    assert prop(browser, "lam", "value") == pytest.approx(-2.0)
    curves, budget = data(browser, "curves"), data(browser, "budget")
    browser.get("about:blank")
    open_page(browser, shared)
    assert page_state(browser) == state
    np.testing.assert_array_equal(data(browser, "curves")["ys"], curves["ys"])
    np.testing.assert_array_equal(data(browser, "budget")["y"], budget["y"])
    ref = pp.frontier.eps_vs_f(3.0, budget["x"], keep="easy", theta=12.5, flip=0.1,
                               learner=pp.get_learner("ridge", lam=0.01),
                               metric=pp.get_metric("margin", label_aware=True))
    np.testing.assert_allclose(budget["y"], ref, rtol=1e-9)


def test_simulate_overlays_points(browser, server_url):
    open_page(browser, server_url + "?f=1,0.3&alpha_tot=5&n=30&seeds=2")
    assert data(browser, "sim_a")["x"] == []
    element(browser, "simulate", "button").click()
    wait_for(lambda: len(data(browser, "sim_a")["x"]) > 0, "the first simulated point")
    wait_for(lambda: "simulated" in prop(browser, "progress", "text"), "the simulation to end")
    n_plan = len(ex.simulation_plan(page_state(browser)))
    sim = data(browser, "sim_a")
    assert len(sim["x"]) == n_plan
    assert all(lo <= y <= hi for lo, y, hi in zip(sim["lower"], sim["y"], sim["upper"]))
    assert len(data(browser, "sim_b")["x"]) == 2


def test_a_bad_url_shows_a_message_not_a_crash(browser, server_url):
    open_page(browser, server_url + "?theta=500&f=abc&keep=hard")
    message = html.unescape(prop(browser, "message", "text"))
    assert "theta" in message and "[0, 90]" in message and "f must be" in message
    text = element(browser, "message", "div").text
    assert "theta" in text
    assert page_state(browser).theta == 0.0  # the default view is drawn
    assert len(data(browser, "curves")["ys"]) == 4
    # A bad value typed into a control: message, and the last good view stays.
    from selenium.webdriver.common.keys import Keys

    before = data(browser, "curves")["ys"]
    box = element(browser, "f", "input")
    box.clear()
    box.send_keys("0.5, 7", Keys.ENTER)
    wait_for(lambda: "f must be" in prop(browser, "message", "text"), "the message")
    assert data(browser, "curves")["ys"] == before
    open_page(browser, server_url)  # the server still answers
    assert prop(browser, "message", "text") == ""


def test_export_png_and_csv(browser, server_url, downloads):
    open_page(browser, server_url + "?f=1,0.2")
    png = downloads / "perceptron-pruning-explore.png"
    csv = downloads / "perceptron-pruning-explore.csv"
    element(browser, "png", "button").click()
    wait_for(png.exists, f"the PNG download (have {sorted(os.listdir(downloads))})")
    element(browser, "csv", "button").click()
    wait_for(csv.exists, f"the CSV download (have {sorted(os.listdir(downloads))})")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = wait_for(lambda: csv.read_text() if csv.stat().st_size else None, "the CSV")
    assert text == ex.view_csv(page_state(browser))


def test_screenshot(browser, server_url, tmp_path):
    """The README's picture: keep hard at 10 degrees with simulation points."""
    open_page(browser, server_url + "?keep=hard&f=1,0.5,0.2,0.1&theta=10&alpha_tot=10"
                                    "&fpic=0.3&n=100&seeds=4")
    element(browser, "simulate", "button").click()
    wait_for(lambda: "simulated" in prop(browser, "progress", "text"), "the simulation",
             timeout=300)
    out = Path(os.environ.get("PP_EXPLORER_SCREENSHOT") or tmp_path / "explorer.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    time.sleep(0.5)  # let the canvas paint the last points
    assert browser.save_screenshot(str(out))
    assert out.stat().st_size > 10_000
