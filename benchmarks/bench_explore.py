"""Explorer redraw latency when a theory slider moves, against the 300 ms target (issue 12).

Two measurements, every slider value visited for the first time (nothing cached):

- server: the Bokeh callback alone (theory solve, picture, source updates), on a Document;
- browser: a real round trip in headless Chromium: the slider's value is set in the page, the
  server redraws and pushes the new data, the page repaints (timed in the page, from the value
  change to the next animation frame after the new data arrive). Skipped without Chromium.

Scenarios: the perfect metric (theta = 0, moving alpha_tot) and an imperfect one (moving theta
from 5 degrees upward, which re-solves every curve), each for keep hard and keep easy.

    NUMBA_CACHE_DIR=/tmp/nbc .venv/bin/python benchmarks/bench_explore.py [--steps 12]
"""

from __future__ import annotations

import argparse
import math
import shutil
import time

import numpy as np

from perceptron_pruning import explore as ex

TARGET_MS = 300.0

_ROUND_TRIP = """
const [name, value, key, shown, done] = arguments
const doc = Bokeh.documents[0]
const url = doc.get_model_by_name("url")
const t0 = performance.now()
const want = key + "=" + shown
const poll = () => {
  if (url.text.split("&").includes(want))
    requestAnimationFrame(() => done(performance.now() - t0))
  else
    setTimeout(poll, 1)
}
doc.get_model_by_name(name).value = value
poll()
"""


def scenarios(steps):
    # Values not on the widgets' default grid, so each is solved afresh.
    at = [round(v, 4) for v in np.geomspace(1.3, 700, steps)]
    th = [round(5.25 + 3.5 * i, 2) for i in range(steps)]
    for keep in ("hard", "easy"):
        yield (f"perfect (theta = 0), keep {keep}, alpha_tot slider",
               ex.ViewState(keep=keep, theta=0.0), "alpha_tot", [math.log10(a) for a in at], at)
        yield (f"imperfect, keep {keep}, theta slider",
               ex.ViewState(keep=keep, theta=3.0), "theta", th, th)


def server_ms(state, widget, values):
    from bokeh.document import Document

    e = ex.Explorer(Document(), {"keep": state.keep, "theta": str(state.theta)})
    out = []
    for v in values:
        getattr(e, widget).value = v
        cb = next(iter(e.doc.session_callbacks))
        e.doc.remove_next_tick_callback(cb)
        t0 = time.perf_counter()
        cb.callback()
        out.append(1e3 * (time.perf_counter() - t0))
    return np.array(out)


def browser_ms(url, state, widget, values, shown):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,900"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    drv.set_script_timeout(60)
    try:
        drv.get(url + f"?keep={state.keep}&theta={state.theta:g}")
        t0 = time.monotonic()
        while not drv.execute_script("return window.Bokeh != null && Bokeh.documents.length > 0"
                                     " && Bokeh.documents[0].get_model_by_name('url') != null"
                                     " && Bokeh.documents[0].get_model_by_name('url').text"
                                     ".length > 0"):
            if time.monotonic() - t0 > 60:
                raise RuntimeError("page did not load")
            time.sleep(0.1)
        out = []
        for v, s in zip(values, shown):
            out.append(drv.execute_async_script(_ROUND_TRIP, widget, v, widget, f"{s:g}"))
        return np.array(out)
    finally:
        drv.quit()


def _row(name, ms):
    return (f"  {name:<48s} median {np.median(ms):6.0f} ms   p90 {np.percentile(ms, 90):6.0f}"
            f"   max {ms.max():6.0f}   max/target {ms.max() / TARGET_MS:4.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=12)
    args = ap.parse_args()
    ex.learning_curves(ex.ViewState())  # load the compiled kernels
    print(f"target: {TARGET_MS:.0f} ms per slider move; {args.steps} first-time values each")
    print("server callback (theory + picture + sources):")
    for name, state, widget, values, _ in scenarios(args.steps):
        ex._curve_eps.cache_clear()
        ex._eps_vs_f.cache_clear()
        print(_row(name, server_ms(state, widget, values)))
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        print("browser round trip: skipped (no chromium/chromedriver)")
        return
    print("browser round trip (value change -> server -> repaint), headless Chromium:")
    url, stop = ex.serve_in_thread()
    try:
        for name, state, widget, values, shown in scenarios(args.steps):
            ex._curve_eps.cache_clear()
            ex._eps_vs_f.cache_clear()
            print(_row(name, browser_ms(url, state, widget, values, shown)))
        print("cached (the same values again):")
        for name, state, widget, values, shown in scenarios(args.steps):
            print(_row(name, browser_ms(url, state, widget, values, shown)))
    finally:
        stop()


if __name__ == "__main__":
    main()
