"""Hostile and random argument lists: every one ends in a result or one line and status 2.

Valid ``simulate`` and ``theory`` inputs drawn here are tiny (N <= 20, alpha_tot <= 3, at most
3 seeds); the large ones hit a check before any allocation. ``reproduce`` and ``figure`` run all
of the CLI's parsing, validation and output-folder creation, then a cheap stand-in for
:func:`perceptron_pruning.figures.make_figure` instead of the minutes-long sweeps.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perceptron_pruning import cli, figures
from perceptron_pruning.registry import learner_names, metric_names

HUGE = "99999999999999999999"
BAD_NUMBERS = ["0", "-1", "nan", "inf", "-inf", "1e309", "-1e309", HUGE, "-" + HUGE, "", "abc",
               "1e-300", "0x10", " ", "1" * 5000]
BAD_INTS = [*BAD_NUMBERS, "2.5", "1e3", "1_0", "+3", str(2**64), "-0"]
BAD_NAMES = ["", "nope", "MAX-MARGIN", "max margin", "margin\n", "\x00", "-"]


def _rarely(usual, rare):
    """``usual`` about nine times in ten, else ``rare`` (Hypothesis favours small integers, so
    the rare branch is the largest one)."""
    return st.integers(0, 9).flatmap(lambda i: rare if i == 9 else usual)


def _pool(valid, bad):
    """A value, mostly from ``valid``: most argument lists are valid or nearly so and reach the
    engine."""
    return _rarely(st.sampled_from(valid), st.sampled_from(bad))


# Valid simulate inputs are tiny; the memory check refuses N = 10^6 for every valid alpha_tot
# (>= 4 TB per trial).
N_VALUES = _pool(["1", "2", "7", "20", "20", "1000000"], ["1000001", *BAD_INTS])
ALPHA_TOT = _pool(["0.5", "1", "3"], BAD_NUMBERS)
F_VALUES = _pool(["1", "0.5", "0.2", "1e-3"], ["1.5", "-0.5", *BAD_NUMBERS])
THETA = _pool(["0", "10", "90"], ["91", "-5", *BAD_NUMBERS])
KEEP = _pool(["hard", "easy", "random"], ["middle", "HARD", "", "hard "])
SEEDS = _pool(["1", "2", "3"], ["1000001", *BAD_INTS])
SEED = _pool(["0", "7", str(2**64 - 1)], BAD_INTS)
JOBS = _pool(["1", "2", "1024"], ["1025", *BAD_INTS])
LEARNERS = _pool(learner_names(), BAD_NAMES)
METRICS = _pool(metric_names(), BAD_NAMES)
ALPHA_GRID = _rarely(st.lists(_pool(["0.001", "0.5", "2", "50"], ["1e-4", "2e4", *BAD_NUMBERS]),
                              min_size=1, max_size=3), st.just([]))
FIGURE_NAMES = _rarely(st.lists(_pool(list(figures.FIGURES), ["keep_medium", "", "KEEP_HARD"]),
                                min_size=1, max_size=3), st.just([]))
FIGURE_N = _pool(["2", "20", "1000000"], ["1", "1000001", *BAD_INTS])
JUNK = ["--bogus", "-x", "--", "-", "--n=", "--=", "=", "-1", "--seeds=1e3", "@args.txt",
        "--no-json", "--no-quick", "--threads", "--json", "--quick", "--progress",
        "--no-progress", "--learner", "--metric", "--out", "--keep", "simulate", "theory",
        "reproduce", "figure"]
# Random text without digits: no random token can turn into a large valid run.
TEXT = st.text(st.characters(exclude_categories=("Nd", "Cs")), max_size=8)


def _flag(name, values):
    return st.tuples(st.just(name), values).map(list)


def _many(name, values):
    return values.map(lambda v: [name, *v])


def _junk():
    return st.lists(st.one_of(st.sampled_from(JUNK), TEXT).map(lambda t: [t]), max_size=2)


def _argv(command, required, optional, positional=None, always=()):
    """``[command, *positional, *flags]``: the ``always`` flags, each required flag usually,
    any optional flags (repeats allowed), sometimes junk tokens; in random order."""

    @st.composite
    def build(draw):
        parts = [draw(opt) for opt in always]
        parts += [draw(opt) for opt in draw(st.lists(st.sampled_from(optional), max_size=6))]
        parts += [draw(req) for req in required if draw(st.integers(0, 9)) != 9]
        parts += draw(_junk()) if draw(st.integers(0, 9)) == 9 else []
        parts = draw(st.permutations(parts))
        head = [command] + (draw(positional) if positional is not None else [])
        return head + [tok for part in parts for tok in part]

    return build()


def _figure_flags(paths):
    return [
        st.just(["--quick"]), _flag("--out", paths), _flag("--cache", paths),
        st.just(["--no-cache"]), _flag("--jobs", JOBS), _flag("--n", FIGURE_N),
        _flag("--seeds", SEEDS), _flag("--learner", LEARNERS), _flag("--metric", METRICS),
        st.just(["--progress"]), st.just(["--no-progress"]), _flag("--keep", KEEP),
    ]


SIMULATE_FLAGS = [
    _flag("--n", N_VALUES), _flag("--f", F_VALUES), _flag("--keep", KEEP),
    _flag("--theta", THETA), _flag("--seeds", SEEDS), _flag("--seed", SEED),
    _flag("--jobs", JOBS), _flag("--threads", JOBS), _flag("--learner", LEARNERS),
    _flag("--metric", METRICS), st.just(["--json"]), st.just(["--progress"]),
    st.just(["--no-progress"]), _flag("--alpha-prune", ALPHA_TOT),
]
THEORY_FLAGS = [
    _flag("--f", F_VALUES), _flag("--keep", KEEP), _flag("--theta", THETA),
    _flag("--learner", LEARNERS), _flag("--metric", METRICS), st.just(["--json"]),
    _flag("--n", N_VALUES), _many("--alpha-tot", ALPHA_GRID),
]


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """A folder to work in (the default ``--out figures`` lands here), with good and bad paths.

    ``make_figure`` is replaced by a stand-in that checks what the CLI hands it and writes one
    small file, so the figure commands cost milliseconds.
    """
    root = tmp_path_factory.mktemp("fuzz")
    a_file = root / "a_file"
    a_file.write_text("not a folder\n")
    calls = []

    def stand_in(name, out_dir, cfg, *, cache_dir=None, executor=None, progress=None):
        assert name in figures.FIGURES
        assert isinstance(cfg, figures.FigureConfig)
        assert progress in (None, True, False)
        assert Path(out_dir).is_dir() and (cache_dir is None or Path(cache_dir).is_dir())
        (Path(out_dir) / f"{name}.csv").write_text("stand-in\n")
        calls.append(name)
        return figures.FigureData(name, [], {"stand_in": 1.0})

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setattr(figures, "make_figure", stand_in)
        paths = _pool([str(root / "out"), str(root / "deep" / "er"), "rel_out"],
                      ["/proc/nope", str(a_file), str(a_file / "sub"), "", "\x00",
                       str(root / "out\nx")])
        yield {"paths": paths,
               "calls": calls, "a_file": a_file}


def run(argv):
    """``cli.main(argv)`` in-process; returns ``(status, stdout, stderr)``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    return status, out.getvalue(), err.getvalue()


def check(argv):
    status, out, err = run(argv)
    assert status in (0, 2), (argv, status, err)
    assert "Traceback" not in err, (argv, err)
    if status == 2:
        assert len(err.splitlines()) == 1 and err.endswith("\n"), (argv, err)
        assert "error" in err and out == "", (argv, err)
    return status, out, err


FUZZ = settings(max_examples=400, deadline=None)


@FUZZ
@given(argv=_argv("simulate", [_flag("--alpha-tot", ALPHA_TOT), _flag("--seeds", SEEDS)],
                  SIMULATE_FLAGS, always=[_flag("--n", N_VALUES)]))  # no default N = 400 runs
def test_fuzz_simulate(place, argv):
    check(argv)


@FUZZ
@given(argv=_argv("theory", [_many("--alpha-prune", ALPHA_GRID)], THEORY_FLAGS))
def test_fuzz_theory(place, argv):
    check(argv)


@FUZZ
@given(data=st.data())
def test_fuzz_reproduce(place, data):
    check(data.draw(_argv("reproduce", [], _figure_flags(place["paths"]))))


@FUZZ
@given(data=st.data())
def test_fuzz_figure(place, data):
    check(data.draw(_argv("figure", [], _figure_flags(place["paths"]),
                          positional=FIGURE_NAMES)))


@settings(max_examples=600, deadline=None)
@given(argv=st.lists(st.one_of(st.sampled_from(JUNK), TEXT), max_size=6))
def test_fuzz_junk(place, argv):
    check(argv)


# ----------------------------------------------------------------------------- regressions


def test_a_trial_too_large_for_memory_is_refused_naming_n_alpha_tot_and_the_limit():
    # 100000 x 10^7 doubles would be 7 TiB: refused before anything is allocated.
    status, _, err = check(["simulate", "--n", "100000", "--alpha-tot", "100"])
    assert status == 2
    assert "n = 100000" in err and "alpha_tot = 100" in err and "limit" in err


@pytest.mark.parametrize("command", [["simulate", "--n", "20", "--alpha-tot", "2"],
                                     ["reproduce", "--quick"], ["figure", "keep_hard"]])
def test_a_huge_seed_count_is_refused(place, command):
    status, _, err = check([*command, "--seeds", HUGE])
    assert status == 2 and "--seeds" in err and "1..1000000" in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")
def test_reproduce_into_proc_fails_before_computing(place):
    before = len(place["calls"])
    status, _, err = check(["reproduce", "--out", "/proc/x"])
    assert status == 2 and "'/proc/x'" in err and "output folder" in err
    assert len(place["calls"]) == before


@pytest.mark.parametrize("flag,what", [("--out", "output folder"), ("--cache", "cache folder")])
def test_a_folder_under_a_regular_file_fails_before_computing(place, flag, what):
    before = len(place["calls"])
    bad = str(place["a_file"] / "sub")
    status, _, err = check(["reproduce", flag, bad])
    assert status == 2 and repr(bad) in err and what in err
    assert len(place["calls"]) == before


def test_figure_commands_reach_the_compute_step_with_a_good_folder(place, tmp_path):
    status, out, _ = check(["figure", "keep_hard", "scaling", "--out", str(tmp_path / "o"),
                            "--learner", "max-margin", "--metric", "margin", "--no-progress"])
    assert status == 0 and place["calls"][-2:] == ["keep_hard", "scaling"]
    assert (tmp_path / "o" / "keep_hard.csv").exists() and (tmp_path / "o" / ".cache").is_dir()
    assert "keep_hard:" in out


def test_a_write_failure_during_the_run_is_one_line_naming_the_file(monkeypatch, tmp_path):
    def disk_full(name, out_dir, cfg, **kwargs):
        raise OSError(28, "No space left on device", str(Path(out_dir) / f"{name}.png"))

    monkeypatch.setattr(figures, "make_figure", disk_full)
    status, _, err = check(["figure", "scaling", "--out", str(tmp_path)])
    assert status == 2 and "No space left on device" in err
    assert repr(str(tmp_path / "scaling.png")) in err


def test_memory_error_in_a_figure_is_one_line(monkeypatch, tmp_path):
    def too_big(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(figures, "make_figure", too_big)
    status, _, err = check(["figure", "scaling", "--out", str(tmp_path)])
    assert status == 2 and "out of memory" in err
