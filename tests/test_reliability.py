"""The reliability suite: the generated bad-input corpus through every command that takes each kind of input.

Each trial must end cleanly: the exit status expected, one line naming the file on refusal, nothing written
outside the project and the declared outputs, no label changed, an answer within the time limit. The counts
(also in README.md's reliability figures) are printed; set AFFECTTRACE_RELIABILITY_JSON=FILE to keep them.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests import badinterop as bx
from tests import reliability as rel
from tests.trialrun import Outcome, run_trials

# Every trial runs in the module fixture, charged to the first test: 8 minutes on the dev box under load.
pytestmark = pytest.mark.timeout(1200)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> tuple[rel.Corpus, list[Outcome]]:
    root = tmp_path_factory.mktemp("reliability")
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CACHE_HOME", str(root / "work" / "xdg-cache"))
    try:
        corpus = rel.build_corpus(root / "corpus")
        trials = rel.trials(corpus, root / "work")
        done = run_trials(trials, root / "corpus")
    finally:
        mp.undo()
    counts = rel.summary(corpus, done)
    print("\nreliability:", json.dumps(counts))
    if os.environ.get("AFFECTTRACE_RELIABILITY_JSON"):
        Path(os.environ["AFFECTTRACE_RELIABILITY_JSON"]).write_text(json.dumps(counts, indent=1))
    return corpus, done


def _report(bad: list[Outcome]) -> str:
    return "\n".join(f"{o.trial.kind}/{o.trial.name} | {o.trial.command} | exit {o.code} | {'; '.join(o.faults)} | "
                     f"{o.err.strip()[:300]!r}" for o in bad[:40])


@pytest.mark.parametrize("kind", ["media", "csv", "affwild2", "checkpoint", "settings", "project", "name", "path",
                                  "elan", "nova", "tool", "export"])
def test_every_trial_ends_cleanly(outcomes, kind: str) -> None:
    _, done = outcomes
    mine = [o for o in done if o.trial.kind == kind]
    assert mine, f"no {kind} trial ran"
    bad = [o for o in mine if o.faults]
    assert not bad, f"{len(bad)} of {len(mine)} {kind} trials not clean:\n" + _report(bad)


def test_no_hang_no_traceback_no_escape_no_label_lost(outcomes) -> None:
    corpus, done = outcomes
    counts = rel.summary(corpus, done)
    assert counts["trials"] >= 300 and counts["inputs"] >= 60
    assert counts["hangs"] == counts["tracebacks"] == counts["wrote_outside"] == counts["labels_lost"] == 0, counts
    assert counts["silent_accepts"] == counts["outputs_over_inputs"] == 0, counts
    assert counts["malicious_pickle_ran"] == 0


def test_real_interop_files_damaged_too(outcomes) -> None:
    """The real ELAN, NOVA, OpenFace and py-feat files, damaged, are refused cleanly (skipped without them)."""
    if not bx.REAL.is_dir():
        pytest.skip(f"real interop files {bx.REAL} are absent")
    _, done = outcomes
    real = [o for o in done if o.trial.name.startswith("real-")]
    assert {o.trial.command for o in real} == {"import-elan", "import-nova", "import-openface", "import-pyfeat"}
    assert not [o for o in real if o.faults], _report([o for o in real if o.faults])
