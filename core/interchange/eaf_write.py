"""Writing ELAN annotation documents (EAF 3.0): AffectTrace's tiers plus tiers kept from imported files.

Expression tiers use the tier type ``AffectTrace expression`` bound to a controlled vocabulary of the 8
classes; AU tiers use ``AffectTrace AU`` bound to absent / present / A-E. Kept tiers come back with their
own tier types, vocabularies (EAF 2.6/2.7 vocabularies are rewritten in the 2.8+ multilingual form),
locales, languages and external references; their time slots and annotation ids are renumbered so
they cannot clash with the new ones.
"""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ..labels import EXPRESSIONS
from .eaf import EafDoc
from .valuemap import AU_STATES

EXPR_TYPE, AU_TYPE = "AffectTrace expression", "AffectTrace AU"
EXPR_CV, AU_CV = "affecttrace-expression", "affecttrace-au"
LANG = "eng"
CONSTRAINTS = {  # ELAN's four stereotypes with the descriptions ELAN itself writes
    "Time_Subdivision": "Time subdivision of parent annotation's time interval, no time gaps allowed within this "
                        "interval",
    "Symbolic_Subdivision": "Symbolic subdivision of a parent annotation. Annotations refering to the same parent "
                            "are ordered",
    "Symbolic_Association": "1-1 association with a parent annotation",
    "Included_In": "Time alignable annotations within the parent annotation's time interval, gaps are allowed",
}


@dataclass
class OutTier:
    id: str
    kind: str  # "expr" or "au"
    annotator: str
    segments: list[tuple[int, int, str]] = field(default_factory=list)  # (start ms, end ms, value)


@dataclass
class Kept:
    doc: EafDoc
    tiers: list[str]  # tier ids to carry over, parents before children


@dataclass
class _Ids:
    slots: list[tuple[tuple[int, int], str, int | None]] = field(default_factory=list)  # (sort key, id, ms)
    by_ms: dict[int, str] = field(default_factory=dict)
    annotations: int = 0

    def slot(self, ms: int | None, key: tuple[int, int] | None = None) -> str:
        if ms is not None and key is None and ms in self.by_ms:
            return self.by_ms[ms]
        sid = f"ts{len(self.slots) + 1}"
        self.slots.append((key or (ms or 0, 0), sid, ms))
        if ms is not None and key is None:
            self.by_ms[ms] = sid
        return sid

    def annotation(self) -> str:
        self.annotations += 1
        return f"a{self.annotations}"


def build_eaf(media: list[dict[str, str]], linked: list[dict[str, str]], tiers: list[OutTier],
              kept: list[Kept]) -> bytes:
    """The bytes of an EAF 3.0 document."""
    root = ET.Element("ANNOTATION_DOCUMENT", {
        "AUTHOR": "", "DATE": time.strftime("%Y-%m-%dT%H:%M:%S") + _tz(), "FORMAT": "3.0", "VERSION": "3.0",
        "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "xsi:noNamespaceSchemaLocation": "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"})
    header = ET.SubElement(root, "HEADER", {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"})
    for m in media:
        ET.SubElement(header, "MEDIA_DESCRIPTOR", m)
    for lf in linked:
        ET.SubElement(header, "LINKED_FILE_DESCRIPTOR", lf)
    order = ET.SubElement(root, "TIME_ORDER")
    ids = _Ids()
    tier_elems = [_our_tier(t, ids) for t in tiers]
    types: dict[str, ET.Element] = {}
    cvs: dict[str, ET.Element] = {}
    extras: dict[str, dict[str, ET.Element]] = {"LOCALE": {}, "LANGUAGE": {}, "LEXICON_REF": {}, "EXTERNAL_REF": {}}
    used_ids = {t.id for t in tiers}
    for k in kept:
        tier_elems += _kept_tiers(k, ids, used_ids, types, cvs, extras)
    ET.SubElement(header, "PROPERTY", {"NAME": "lastUsedAnnotationId"}).text = str(ids.annotations)
    for key, sid, ms in sorted(ids.slots):
        ET.SubElement(order, "TIME_SLOT", {"TIME_SLOT_ID": sid} | ({} if ms is None else {"TIME_VALUE": str(ms)}))
    root.extend(tier_elems)
    kinds = {t.kind for t in tiers}
    if "expr" in kinds:
        ET.SubElement(root, "LINGUISTIC_TYPE", _type_attrs(EXPR_TYPE, EXPR_CV))
    if "au" in kinds:
        ET.SubElement(root, "LINGUISTIC_TYPE", _type_attrs(AU_TYPE, AU_CV))
    root.extend(types.values())
    root.extend(extras["LOCALE"].values())
    if LANG not in extras["LANGUAGE"]:
        ET.SubElement(root, "LANGUAGE", {"LANG_DEF": "http://cdb.iso.org/lg/CDB-00130975-001", "LANG_ID": LANG,
                                         "LANG_LABEL": "English (eng)"})
    root.extend(extras["LANGUAGE"].values())
    for st, desc in CONSTRAINTS.items():
        ET.SubElement(root, "CONSTRAINT", {"DESCRIPTION": desc, "STEREOTYPE": st})
    if "expr" in kinds:
        root.append(_cv(EXPR_CV, "AffectTrace expression classes", EXPRESSIONS))
    if "au" in kinds:
        root.append(_cv(AU_CV, "Action unit: absent, present, or FACS intensity A (trace) to E (maximum)", AU_STATES))
    root.extend(cvs.values())
    root.extend(extras["LEXICON_REF"].values())
    root.extend(extras["EXTERNAL_REF"].values())
    ET.indent(root, "    ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def _tz() -> str:
    z = time.strftime("%z")
    return f"{z[:3]}:{z[3:]}" if len(z) == 5 else ""


def _type_attrs(tid: str, cv: str) -> dict[str, str]:
    return {"CONTROLLED_VOCABULARY_REF": cv, "GRAPHIC_REFERENCES": "false", "LINGUISTIC_TYPE_ID": tid,
            "TIME_ALIGNABLE": "true"}


def cve_id(cv: str, i: int) -> str:
    return f"cveid_{cv}_{i}"


def _cv(cv_id: str, description: str, values: tuple[str, ...]) -> ET.Element:
    cv = ET.Element("CONTROLLED_VOCABULARY", {"CV_ID": cv_id})
    ET.SubElement(cv, "DESCRIPTION", {"LANG_REF": LANG}).text = description
    for i, v in enumerate(values):
        e = ET.SubElement(cv, "CV_ENTRY_ML", {"CVE_ID": cve_id(cv_id, i)})
        ET.SubElement(e, "CVE_VALUE", {"DESCRIPTION": "", "LANG_REF": LANG}).text = v
    return cv


def _our_tier(t: OutTier, ids: _Ids) -> ET.Element:
    cv, values = (EXPR_CV, EXPRESSIONS) if t.kind == "expr" else (AU_CV, AU_STATES)
    e = ET.Element("TIER", {"ANNOTATOR": t.annotator, "LINGUISTIC_TYPE_REF": EXPR_TYPE if t.kind == "expr" else AU_TYPE,
                            "TIER_ID": t.id})
    for a, b, value in t.segments:
        al = ET.SubElement(ET.SubElement(e, "ANNOTATION"), "ALIGNABLE_ANNOTATION", {
            "ANNOTATION_ID": ids.annotation(), "CVE_REF": cve_id(cv, values.index(value)),
            "TIME_SLOT_REF1": ids.slot(a), "TIME_SLOT_REF2": ids.slot(b)})
        ET.SubElement(al, "ANNOTATION_VALUE").text = value
    return e


def _kept_tiers(k: Kept, ids: _Ids, used: set[str], types: dict[str, ET.Element], cvs: dict[str, ET.Element],
                extras: dict[str, dict[str, ET.Element]]) -> list[ET.Element]:
    root = k.doc.root
    slot_map: dict[str, str] = {}
    prev_ms = 0
    for seq, (sid, ms) in enumerate(k.doc.slots.items()):  # unaligned slots sort just after the aligned one before them
        prev_ms = ms if ms is not None else prev_ms
        slot_map[sid] = ids.slot(ms, (prev_ms, seq + 1))
    ann_map: dict[str, str] = {}
    rename: dict[str, str] = {}
    for tid in k.tiers:
        new = tid
        while new in used:
            new = f"{new} (kept)"
        used.add(new)
        rename[tid] = new
    by_id = {t.get("TIER_ID"): t for t in root.findall("TIER")}
    out = []
    for tid in k.tiers:
        src = by_id[tid]
        e = ET.Element("TIER", dict(src.attrib))
        e.set("TIER_ID", rename[tid])
        if src.get("PARENT_REF"):
            e.set("PARENT_REF", rename.get(src.get("PARENT_REF", ""), src.get("PARENT_REF", "")))
        for holder in src.findall("ANNOTATION"):
            ann_map[holder[0].get("ANNOTATION_ID", "")] = ids.annotation()
        for holder in src.findall("ANNOTATION"):
            _copy_annotation(holder[0], e, slot_map, ann_map)
        out.append(e)
        lt = k.doc.types[src.get("LINGUISTIC_TYPE_REF", "")]
        types.setdefault(lt["LINGUISTIC_TYPE_ID"], ET.Element("LINGUISTIC_TYPE", lt))
        cv_ref = lt.get("CONTROLLED_VOCABULARY_REF")
        if cv_ref and cv_ref not in cvs:
            cvs[cv_ref] = _cv_3(next(c for c in root.findall("CONTROLLED_VOCABULARY") if c.get("CV_ID") == cv_ref))
    for tag, key in (("LOCALE", "LANGUAGE_CODE"), ("LANGUAGE", "LANG_ID"), ("LEXICON_REF", "LEX_REF_ID"),
                     ("EXTERNAL_REF", "EXT_REF_ID")):
        for el in root.findall(tag):
            extras[tag].setdefault(el.get(key, ""), el)
    return out


def _copy_annotation(a: ET.Element, tier: ET.Element, slot_map: dict[str, str], ann_map: dict[str, str]) -> None:
    """Append a copy of annotation ``a`` to ``tier`` with its id, time slots and references renumbered."""
    c = ET.SubElement(ET.SubElement(tier, "ANNOTATION"), a.tag, dict(a.attrib))
    c.set("ANNOTATION_ID", ann_map[a.get("ANNOTATION_ID", "")])
    for attr in ("TIME_SLOT_REF1", "TIME_SLOT_REF2"):
        if a.get(attr):
            c.set(attr, slot_map[a.get(attr, "")])
    for attr in ("ANNOTATION_REF", "PREVIOUS_ANNOTATION"):
        if a.get(attr):
            c.set(attr, ann_map.get(a.get(attr, ""), a.get(attr, "")))
    c.extend(list(a))


def _cv_3(cv: ET.Element) -> ET.Element:
    """A vocabulary in the EAF 2.8+ form (2.6/2.7 CV_ENTRY elements rewritten as CV_ENTRY_ML)."""
    if cv.find("CV_ENTRY") is None:
        return cv
    out = ET.Element("CONTROLLED_VOCABULARY", {k: v for k, v in cv.attrib.items() if k != "DESCRIPTION"})
    ET.SubElement(out, "DESCRIPTION", {"LANG_REF": LANG}).text = cv.get("DESCRIPTION", "")
    for i, entry in enumerate(cv.findall("CV_ENTRY")):
        attrs = {"CVE_ID": f"{cv.get('CV_ID')}_{i}"}
        if entry.get("EXT_REF"):
            attrs["EXT_REF"] = entry.get("EXT_REF", "")
        e = ET.SubElement(out, "CV_ENTRY_ML", attrs)
        ET.SubElement(e, "CVE_VALUE", {"DESCRIPTION": entry.get("DESCRIPTION", ""), "LANG_REF": LANG}).text = entry.text
    return out
