"""Loading a .pt file safely: tensors and plain data only, and a one-line CheckpointError otherwise.

``torch.load(weights_only=True)`` refuses pickles that would run code, but says so in six lines that
end by advising ``weights_only=False`` (the one thing never to do with a file from elsewhere). Here
its failures become one line naming the file and the problem.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ..safepaths import require_file


def load_tensors(path: str | Path, what: str = "checkpoint") -> Any:
    """The object in ``path``; CheckpointError (one line) when it is missing, damaged or holds code."""
    path = require_file(path, CheckpointError)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns on pickle protocols it does not expect
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types here; each becomes one line
        raise CheckpointError(load_problem(e, what), path) from None


def load_problem(e: BaseException, what: str) -> str:
    text = str(e)
    name = re.search(r"(?:Unsupported global: GLOBAL|unsupported GLOBAL) ([\w.]+)", text)
    if name:
        return (f"not a plain {what}: it holds Python objects ({name.group(1)}) that would run code when "
                "loaded, so AffectTrace refuses it")
    if isinstance(e, EOFError) or "central directory" in text or "PytorchStreamReader" in text:
        return f"damaged or cut off: not a complete {what} file"
    if "Unsupported operand" in text or "invalid load key" in text or "could not find MARK" in text:
        return f"not a PyTorch {what} file (unreadable data)"
    first = text.splitlines()[0][:120] if text else ""
    if "weights_only" in text or "Weights only" in text:  # never pass on torch's advice to unpickle code
        first = ""
    return f"not a readable {what} ({type(e).__name__}{': ' + first if first else ''})"
