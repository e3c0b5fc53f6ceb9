"""The user's own folders for what AffectTrace, and the libraries it drives, keep between runs."""
from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/affecttrace``, by default ``~/.cache/affecttrace`` (not created here)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "affecttrace"


def keep_library_caches_home() -> None:
    """Point the caches of libraries that would write outside HOME into the user's cache folder.

    torch makes torch.compile's cache folder, ``/tmp/torchinductor_<user>``, as soon as torch._dynamo
    is imported, which every optimizer's constructor does: training without --compile wrote there too.
    Set before torch loads (child processes and DataLoader workers inherit it); a value the user set
    wins."""
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(user_cache_dir() / "torchinductor"))
