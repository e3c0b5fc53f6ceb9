"""`affecttrace models`: the model presets and their parameter counts."""
from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("models", help="list the model presets with their parameter counts",
                       description="Model presets for `affecttrace train --preset`: backbone, heads, "
                       "temporal/audio parts and parameter counts (8 expressions, the AU set given).")
    p.add_argument("--au-set", default="affwild2-12", metavar="SET",
                   help="AU set the AU head is sized for: affwild2-8, affwild2-12 or a list like AU1,AU12")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import AffectTraceError
    from ..labels import EXPRESSIONS, au_set
    from ..nn.presets import PRESETS, parameter_counts

    try:
        aus = au_set(args.au_set)
    except ValueError as e:
        raise AffectTraceError(str(e)) from None
    rows = []
    for name, p in PRESETS.items():
        counts = parameter_counts(p, len(EXPRESSIONS), len(aus))
        rows.append({**p.to_dict(), "parameters": counts["total"], "backbone_parameters": counts["backbone"]})
    if args.json:
        print(json.dumps({"au_set": aus.to_dict(), "expressions": len(EXPRESSIONS), "presets": rows}, indent=2))
        return 0
    print(f"{'preset':<18} {'backbone':<12} {'params':>12} {'backbone':>12}  description")
    for r in rows:
        print(f"{r['name']:<18} {r['backbone']:<12} {r['parameters']:>12,} {r['backbone_parameters']:>12,}  "
              f"{r['description']}")
    return 0
