"""Explorer redraw latency when a theory slider moves, against the 300 ms target (issue 12).

Two measurements, every slider value visited for the first time (nothing cached):

- server: the Bokeh callback alone (theory solve, picture, source updates), on a Document;
- browser: a real round trip in headless Chromium: the slider's value is set in the page, the
  server redraws and pushes the new data, the page repaints (timed in the page, from the value
  change to the next animation frame after the new data arrive). Skipped without Chromium.

Scenarios: the perfect metric (theta = 0, moving alpha_tot) and an imperfect one (moving theta
from 5 degrees upward, which re-solves every curve), each for keep hard and keep easy (the
default settings otherwise); a regularised learner (svm) with label noise, moving the flip slider;
and score noise on (``score_noise > 0``, whose theory is much slower): moving the score-noise
slider from the default view, moving alpha_tot and moving theta with ``score_noise = 0.5``
(``--noise-steps`` values each, as every one costs seconds).

    NUMBA_CACHE_DIR=/tmp/nbc .venv/bin/python benchmarks/bench_explore.py [--steps 12]
        [--noise-steps 3] [--only default|noise|all]
"""

from __future__ import annotations

import argparse
import math
import shutil
import time
from urllib.parse import parse_qsl

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


def scenarios(steps, noise_steps, only="all"):
    # Values not on the widgets' default grid, so each is solved afresh.
    def default(n):
        at = [round(v, 4) for v in np.geomspace(1.3, 700, n)]
        th = [round(5.25 + 3.5 * i, 2) for i in range(n)]
        return at, th

    if only in ("default", "all"):
        at, th = default(steps)
        for keep in ("hard", "easy"):
            yield (f"perfect (theta = 0), keep {keep}, alpha_tot slider",
                   ex.ViewState(keep=keep, theta=0.0), "alpha_tot", [math.log10(a) for a in at],
                   at)
            yield (f"imperfect, keep {keep}, theta slider",
                   ex.ViewState(keep=keep, theta=3.0), "theta", th, th)
        fl = [round(0.013 + 0.031 * i, 3) for i in range(steps)]
        yield ("svm, flip > 0 (theta = 0), keep hard, flip slider",
               ex.ViewState(learner="svm", flip=0.002), "flip", fl, fl)
    if only in ("noise", "all"):
        at, th = default(noise_steps)
        sn = [round(0.35 + 0.4 * i, 2) for i in range(noise_steps)]
        yield ("score noise (theta = 0), keep hard, score_noise slider",
               ex.ViewState(keep="hard", theta=0.0), "score_noise", sn, sn)
        yield ("score noise 0.5 (theta = 0), keep hard, alpha_tot",
               ex.ViewState(keep="hard", theta=0.0, score_noise=0.5), "alpha_tot",
               [math.log10(a) for a in at], at)
        yield ("score noise 0.5, keep hard, theta slider",
               ex.ViewState(keep="hard", theta=3.0, score_noise=0.5), "theta", th, th)


def server_ms(state, widget, values):
    from bokeh.document import Document

    e = ex.Explorer(Document(), dict(parse_qsl(ex.to_query(state))))
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
    drv.set_script_timeout(600)  # score noise: seconds per redraw, more on a loaded machine
    try:
        drv.get(url + "?" + ex.to_query(state))
        t0 = time.monotonic()
        while not drv.execute_script("return window.Bokeh != null && Bokeh.documents.length > 0"
                                     " && Bokeh.documents[0].get_model_by_name('url') != null"
                                     " && Bokeh.documents[0].get_model_by_name('url').text"
                                     ".length > 0"):
            if time.monotonic() - t0 > 600:
                raise RuntimeError("page did not load")
            time.sleep(0.1)
        out = []
        for v, s in zip(values, shown):
            out.append(drv.execute_async_script(_ROUND_TRIP, widget, v, widget, f"{s:g}"))
        return np.array(out)
    finally:
        drv.quit()


def _row(name, ms):
    return (f"  {name:<56s} median {np.median(ms):6.0f} ms   p90 {np.percentile(ms, 90):6.0f}"
            f"   max {ms.max():6.0f}   max/target {ms.max() / TARGET_MS:4.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=12,
                    help="first-time slider values per default scenario (default 12)")
    ap.add_argument("--noise-steps", type=int, default=3,
                    help="first-time slider values per score-noise scenario (default 3)")
    ap.add_argument("--only", choices=("default", "noise", "all"), default="all",
                    help="which scenarios to run (default all)")
    args = ap.parse_args()
    ex.learning_curves(ex.ViewState())  # load the compiled kernels
    from perceptron_pruning import theory

    for kw in ({"learner": "svm", "flip": 0.1}, {"metric": ex.metric_of(ex.ViewState(
            score_noise=0.5))}):
        theory.solve(alpha_tot=10.0, f=0.5, theta=3.0, **kw)
    print(f"target: {TARGET_MS:.0f} ms per slider move; {args.steps} first-time values per "
          f"default scenario, {args.noise_steps} per score-noise scenario")
    print("server callback (theory + picture + sources):")

    def clear():
        ex._curve_eps.cache_clear()
        ex._eps_vs_f.cache_clear()

    def runs():
        return scenarios(args.steps, args.noise_steps, args.only)

    for name, state, widget, values, _ in runs():
        clear()
        print(_row(name, server_ms(state, widget, values)), flush=True)
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        print("browser round trip: skipped (no chromium/chromedriver)")
        return
    print("browser round trip (value change -> server -> repaint), headless Chromium:")
    url, stop = ex.serve_in_thread()
    cached = []
    try:
        for name, state, widget, values, shown in runs():
            clear()
            print(_row(name, browser_ms(url, state, widget, values, shown)), flush=True)
            # Right away, before the next scenario clears the caches.
            cached.append(_row(name, browser_ms(url, state, widget, values, shown)))
        print("cached (the same values again):")
        print("\n".join(cached))
    finally:
        stop()


if __name__ == "__main__":
    main()
