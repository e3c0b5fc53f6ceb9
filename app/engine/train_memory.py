"""What the Train dialog remembers per project (in the user's settings): the choices of its last run, and
what to propose after "Accept model labels" — the track that now holds the accepted and corrected frames,
fine-tuned from the run whose model track was accepted."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Protocol

FORM, PROPOSAL = "form", "after_accept"


class SettingsStore(Protocol):
    def get(self, key: str, default: object = None, type_: type | None = None) -> object: ...

    def set(self, key: str, value: object) -> None: ...


def _key(folder: str | Path, what: str) -> str:
    digest = hashlib.sha1(str(Path(folder).resolve()).encode()).hexdigest()[:16]
    return f"train/{digest}/{what}"


def _read(settings: SettingsStore, folder: str | Path, what: str) -> dict:
    raw = settings.get(_key(folder, what), "")
    try:
        value = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:  # a hand-edited or damaged settings file: start from the defaults
        return {}
    return value if isinstance(value, dict) else {}


def remembered_form(settings: SettingsStore, folder: str | Path) -> dict:
    """The Train dialog's choices the last time it trained on this project ({} when never)."""
    return _read(settings, folder, FORM)


def remember_form(settings: SettingsStore, folder: str | Path, choices: dict) -> None:
    """Keep the dialog's choices for this project; a proposal after an accept has been used up."""
    settings.set(_key(folder, FORM), json.dumps(choices))
    settings.set(_key(folder, PROPOSAL), "")


def propose_after_accept(settings: SettingsStore, folder: str | Path, labels: str, run_id: str | None) -> None:
    """After an accept: the next Train dialog on this project proposes ``labels`` (the annotator's track
    now holding the accepted frames) and fine-tuning from ``run_id`` (the run that made the model track)."""
    settings.set(_key(folder, PROPOSAL), json.dumps({"labels": labels, "finetune_run": run_id or ""}))


def proposal(settings: SettingsStore, folder: str | Path) -> dict:
    """The proposal of the last accept not yet trained on ({} when none)."""
    return _read(settings, folder, PROPOSAL)
