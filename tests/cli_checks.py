"""What the CLI test files share: run a command for its JSON, and expect a one-line error."""

from __future__ import annotations

import json

from perceptron_pruning.cli import main


def run_json(capsys, argv):
    """Run ``argv`` with ``--json``; it must succeed, print one JSON document and no stderr."""
    assert main([*argv, "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and len(out.strip().splitlines()) == 1, err
    return json.loads(out)


def one_line_error(capsys, argv, match):
    """Run ``argv``; it must exit with status 2 and print one stderr line holding ``match``."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1, err
    assert "Traceback" not in err and "error" in lines[0] and match in lines[0], err
