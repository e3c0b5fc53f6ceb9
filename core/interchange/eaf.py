"""Reading ELAN annotation documents (.eaf, EAF 2.6 to 3.0) into a checked, format-level model.

Everything is validated before anything is used: a malformed file, an unknown tier type, a time slot
out of order or a dangling reference is one LabelFileError naming the file and the first problem.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LabelFileError
from ..safepaths import excerpt
from .xmlfile import parse_xml, read_input

VERSIONS = ("2.6", "2.7", "2.8", "3.0")
STEREOTYPES = ("Time_Subdivision", "Symbolic_Subdivision", "Symbolic_Association", "Included_In")
SYMBOLIC = ("Symbolic_Subdivision", "Symbolic_Association")


@dataclass
class EafAnnotation:
    id: str
    value: str
    start: str | None = None  # time slot ids of an alignable annotation
    end: str | None = None
    ref: str | None = None  # the annotation a reference annotation depends on


@dataclass
class EafTier:
    id: str
    ling_type: str
    parent: str | None
    participant: str
    annotator: str
    annotations: list[EafAnnotation] = field(default_factory=list)


@dataclass
class EafDoc:
    path: Path
    version: str
    root: ET.Element
    slots: dict[str, int | None]  # time slot id -> ms (None: unaligned), in document order
    tiers: dict[str, EafTier]
    types: dict[str, dict[str, str]]  # linguistic type id -> attributes
    cvs: dict[str, list[str]]  # controlled vocabulary id -> entry values (first language)
    linked: list[dict[str, str]]  # LINKED_FILE_DESCRIPTOR attributes
    media: list[dict[str, str]] = field(default_factory=list)  # MEDIA_DESCRIPTOR attributes

    def stereotype(self, tier: EafTier) -> str | None:
        return self.types[tier.ling_type].get("CONSTRAINTS") or None

    def is_reference(self, tier: EafTier) -> bool:
        """A symbolic tier: its annotations refer to a parent's instead of having times."""
        return self.stereotype(tier) in SYMBOLIC or any(a.ref is not None for a in tier.annotations)

    def times(self, a: EafAnnotation) -> tuple[int | None, int | None]:
        return self.slots.get(a.start or ""), self.slots.get(a.end or "")

    def vocabulary(self, tier: EafTier) -> list[str] | None:
        cv = self.types[tier.ling_type].get("CONTROLLED_VOCABULARY_REF")
        return self.cvs.get(cv) if cv else None


def _fail(path: Path, problem: str) -> LabelFileError:
    return LabelFileError(problem, path)


def read_eaf(path: str | Path) -> EafDoc:
    path = Path(path)
    root = parse_xml(path, read_input(path), "the ELAN file")
    if root.tag != "ANNOTATION_DOCUMENT":
        raise _fail(path, f"not an ELAN document (root element <{excerpt(root.tag, 40)[1:-1]}>)")
    version = root.get("VERSION") or root.get("FORMAT") or ""
    if version not in VERSIONS:
        raise _fail(path, f"EAF version {excerpt(version)} is not supported (reads {', '.join(VERSIONS)})")
    header = root.find("HEADER")
    if header is None or root.find("TIME_ORDER") is None:
        raise _fail(path, "no HEADER or TIME_ORDER element: not a complete ELAN document")
    if header.get("TIME_UNITS", "milliseconds") != "milliseconds":
        raise _fail(path, f"TIME_UNITS {excerpt(header.get('TIME_UNITS'))}: only milliseconds are defined by EAF")
    slots = _slots(path, root)
    types = {}
    for lt in root.findall("LINGUISTIC_TYPE"):
        tid = lt.get("LINGUISTIC_TYPE_ID")
        if not tid:
            raise _fail(path, "a LINGUISTIC_TYPE without LINGUISTIC_TYPE_ID")
        st = lt.get("CONSTRAINTS")
        if st and st not in STEREOTYPES:
            raise _fail(path, f"tier type {excerpt(tid)}: unknown constraint {excerpt(st)} "
                        f"(EAF defines {', '.join(STEREOTYPES)})")
        types[tid] = dict(lt.attrib)
    cvs = {cv.get("CV_ID", ""): _cv_values(cv) for cv in root.findall("CONTROLLED_VOCABULARY")}
    for tid, t in types.items():
        ref = t.get("CONTROLLED_VOCABULARY_REF")
        if ref and ref not in cvs:
            raise _fail(path, f"tier type {excerpt(tid)} refers to an unknown controlled vocabulary {excerpt(ref)}")
    tiers = _tiers(path, root, types, slots)
    doc = EafDoc(path, version, root, slots, tiers, types, cvs,
                 [dict(e.attrib) for e in header.findall("LINKED_FILE_DESCRIPTOR")],
                 [dict(e.attrib) for e in header.findall("MEDIA_DESCRIPTOR")])
    return doc


def _slots(path: Path, root: ET.Element) -> dict[str, int | None]:
    """Slot id -> ms. TIME_ORDER need not be sorted (pympi writes it by id); an annotation that ends
    before it starts is what "out of order" means here (checked per annotation)."""
    slots: dict[str, int | None] = {}
    for ts in root.iter("TIME_SLOT"):
        sid = ts.get("TIME_SLOT_ID")
        if not sid:
            raise _fail(path, "a TIME_SLOT without TIME_SLOT_ID")
        if sid in slots:
            raise _fail(path, f"time slot {excerpt(sid)} is defined twice")
        raw = ts.get("TIME_VALUE")
        if raw is None:
            slots[sid] = None
            continue
        if not raw.strip().isdigit():
            raise _fail(path, f"time slot {excerpt(sid)}: TIME_VALUE {excerpt(raw)} is not a whole number of ms")
        slots[sid] = int(raw)
    return slots


def _cv_values(cv: ET.Element) -> list[str]:
    """Entry values of a vocabulary: CV_ENTRY text (EAF <= 2.7) or each CV_ENTRY_ML's first CVE_VALUE (2.8+)."""
    out = [(e.text or "").strip() for e in cv.findall("CV_ENTRY")]
    for e in cv.findall("CV_ENTRY_ML"):
        v = e.find("CVE_VALUE")
        out.append((v.text or "").strip() if v is not None else "")
    return out


def _tiers(path: Path, root: ET.Element, types: dict[str, dict[str, str]],
           slots: dict[str, int | None]) -> dict[str, EafTier]:
    tiers: dict[str, EafTier] = {}
    ids: set[str] = set()
    for t in root.findall("TIER"):
        tid, lt = t.get("TIER_ID"), t.get("LINGUISTIC_TYPE_REF")
        if not tid:
            raise _fail(path, "a TIER without TIER_ID")
        if tid in tiers:
            raise _fail(path, f"tier {excerpt(tid)} is defined twice")
        if lt not in types:
            raise _fail(path, f"tier {excerpt(tid)}: unknown tier type {excerpt(lt)} (no LINGUISTIC_TYPE of that id)")
        tier = EafTier(tid, lt, t.get("PARENT_REF"), t.get("PARTICIPANT", "").strip(), t.get("ANNOTATOR", "").strip())
        for holder in t.findall("ANNOTATION"):
            kids = list(holder)
            if len(kids) != 1 or kids[0].tag not in ("ALIGNABLE_ANNOTATION", "REF_ANNOTATION"):
                raise _fail(path, f"tier {excerpt(tid)}: an ANNOTATION must hold one ALIGNABLE_ANNOTATION or "
                            "REF_ANNOTATION")
            tier.annotations.append(_annotation(path, tier, kids[0], slots, ids))
        tiers[tid] = tier
    for tier in tiers.values():
        if tier.parent is not None and tier.parent not in tiers:
            raise _fail(path, f"tier {excerpt(tier.id)}: parent tier {excerpt(tier.parent)} does not exist")
        for a in tier.annotations:
            if a.ref is not None and a.ref not in ids:
                raise _fail(path, f"tier {excerpt(tier.id)}: annotation {a.id} refers to a missing annotation "
                            f"{excerpt(a.ref)}")
    return tiers


def _annotation(path: Path, tier: EafTier, e: ET.Element, slots: dict[str, int | None], ids: set[str]) -> EafAnnotation:
    aid = e.get("ANNOTATION_ID") or ""
    if not aid or aid in ids:
        raise _fail(path, f"tier {excerpt(tier.id)}: annotation id {excerpt(aid)} is missing or used twice")
    ids.add(aid)
    v = e.find("ANNOTATION_VALUE")
    value = (v.text or "") if v is not None else ""
    if e.tag == "REF_ANNOTATION":
        return EafAnnotation(aid, value, ref=e.get("ANNOTATION_REF"))
    a, b = e.get("TIME_SLOT_REF1"), e.get("TIME_SLOT_REF2")
    for s in (a, b):
        if s not in slots:
            raise _fail(path, f"tier {excerpt(tier.id)}: annotation {aid} refers to a missing time slot {excerpt(s)}")
    ta, tb = slots[a], slots[b]  # type: ignore[index]
    if ta is not None and tb is not None and tb < ta:
        raise _fail(path, f"tier {excerpt(tier.id)}: annotation {aid} ends ({tb} ms) before it starts ({ta} ms): "
                    "time slots out of order")
    return EafAnnotation(aid, value, a, b)
