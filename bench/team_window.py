"""Team benchmark, the window part: edit -> visible in another annotator's window, end to end.

    python bench/team_window.py [--passes 6] [--out bench/out/team_window.json]

Two real app windows (Xvfb + openbox, as tests/realwindow/) as two annotators of one team project, each
with its own HOME and simulated host name. Alternately one records a VA pass with real keys (R, Space ...
Space, R); the time is taken from the moment its undo step exists (the pass is an edit) until the other
window's timeline draws those frames: the editing window's save a second later, the other's poll, its
redraw. Both moments are read from the windows' probes (app/testprobe.py), each written within 0.1 s of
the change, so a figure is good to about +-0.15 s. bench/team.py measures the engine part at Aff-Wild2
scale. Prints JSON, then a one-line summary.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.team import POLL_MS, PUBLISH_MS  # noqa: E402
from tests.realwindow.team import drawn, focus, record_pass, start_as, team_project  # noqa: E402
from tests.realwindow.xsession import XServer  # noqa: E402

DEMO_SECONDS = 40.0
WAIT_S = 30.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passes", type=int, default=6, help="passes recorded, alternating between the windows")
    ap.add_argument("--out", type=Path, help="also write the JSON here")
    args = ap.parse_args()
    from core.demo import create_demo

    with tempfile.TemporaryDirectory(prefix="team_window_") as tmp:
        root = Path(tmp)
        create_demo(root / "demo", duration_s=DEMO_SECONDS).close()
        folder = team_project(root / "demo", ("lena", "omar"))
        x = XServer(1280, 800, root / "x")
        apps = []
        try:
            apps = [start_as(x, folder, "lena", root, "ws1"), start_as(x, folder, "omar", root, "ws2")]
            names = ("lena", "omar")
            latencies = []
            for i in range(args.passes):
                editor, viewer = apps[i % 2], apps[1 - i % 2]
                who = names[i % 2]
                focus(editor)
                seen_before = drawn(viewer, who)
                edited = record_pass(editor)
                target = drawn(editor, who)
                end = time.monotonic() + WAIT_S
                while drawn(viewer, who) < target or drawn(viewer, who) == seen_before:
                    if time.monotonic() > end:
                        raise SystemExit(f"pass {i}: {who}'s edit not shown in the other window within {WAIT_S} s")
                    time.sleep(0.02)
                latencies.append(round(time.monotonic() - edited, 3))
            for app in apps:
                focus(app)
                app.quit()
        finally:
            for app in apps:
                app.kill()
            x.close()
    load = os.getloadavg()
    out = {"passes": len(latencies), "edit_to_visible_s": latencies,
           "median_s": statistics.median(latencies), "max_s": max(latencies),
           "settings": {"poll_ms": POLL_MS, "publish_ms": PUBLISH_MS}, "loadavg": [round(v, 2) for v in load],
           "cores": os.cpu_count()}
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(f"edit -> visible in another annotator's window: median {out['median_s']:.2f} s, max {out['max_s']:.2f} s "
          f"over {len(latencies)} passes (load {load[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
