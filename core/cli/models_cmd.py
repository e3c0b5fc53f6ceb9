"""`affecttrace models`: the model presets and their parameter counts."""
from __future__ import annotations

import argparse
from typing import Any

from ..words import DEVICE_HELP
from .reporting import add_events_flag, progress, report


def register(sub: Any) -> None:
    p = sub.add_parser("models", help="list the model presets with their parameter counts",
                       description="Model presets for `affecttrace train --preset`: backbone, heads, "
                       "temporal/audio parts and parameter counts (8 expressions, the AU set given).")
    p.add_argument("--au-set", default="affwild2-12", metavar="SET",
                   help="AU set the AU head is sized for: affwild2-8, affwild2-12 or a list like AU1,AU12")
    p.add_argument("--device", default=None, help=f"{DEVICE_HELP}: also give each preset's training "
                   "images/s measured before on this device (cached per device)")
    p.add_argument("--measure", default=None, metavar="PRESETS",
                   help="comma list or 'all': measure training images/s on --device now (a few steps on generated "
                   "batches) and cache the figures")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_events_flag(p)
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
    out: dict[str, Any] = {"au_set": aus.to_dict(), "expressions": len(EXPRESSIONS), "presets": rows}
    if args.device or args.measure:
        out.update(_speeds(args, rows))
    text = [f"{'preset':<18} {'backbone':<12} {'params':>12} {'backbone':>12} {'train img/s':>11}  description"]
    for r in rows:
        rate = r.get("train_images_per_s")
        text.append(f"{r['name']:<18} {r['backbone']:<12} {r['parameters']:>12,} {r['backbone_parameters']:>12,} "
                     f"{'' if rate is None else f'{rate:.1f}':>11}  {r['description']}")
    if "device" in out:
        text.append(f"images/s: training on {out['device_name']} (measured with --measure, cached per device)")
    report(args, out, text)
    return 0


def _speeds(args: argparse.Namespace, rows: list[dict[str, Any]]) -> dict[str, Any]:
    from ..errors import AffectTraceError
    from ..nn.speed import cached_rates, device_key, probe
    from ..nn.trainer import resolve_device

    device = resolve_device(args.device or "auto")
    names = [r["name"] for r in rows]
    wanted = names if args.measure == "all" else [n.strip() for n in (args.measure or "").split(",") if n.strip()]
    unknown = [n for n in wanted if n not in names]
    if unknown:
        raise AffectTraceError(f"no preset {unknown[0]!r} (presets: {', '.join(names)})")
    tick = progress(args, "measure")
    for i, name in enumerate(wanted):
        tick(i, len(wanted), name)
        probe(name, device)
    if wanted:
        tick(len(wanted), len(wanted), "")
    rates = cached_rates(device)
    for r in rows:
        r["train_images_per_s"] = rates.get(r["name"])
    return {"device": str(device), "device_name": device_key(device)}
