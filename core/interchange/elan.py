"""ELAN (.eaf) <-> project tracks.

Import: time-aligned tiers become expression or AU labels of the track named after the tier's annotator
(ANNOTATOR attribute, else PARTICIPANT, else the tier name without its task word: "ann1 AU12" -> ann1).
A tier is taken when ``--tier NAME=TASK`` names it or when its name ends in a task word
("... expression", "... AU12"); values go through core.interchange.valuemap. A frame belongs to an
annotation when its display time lies in [start, end) (core.interchange.framerule), after shifting by
the video's TIME_ORIGIN. VA comes from linked time series whose tracks are named "<annotator> valence" /
"<annotator> arousal" (or named by ``--tier``). Reference (symbolic) tiers, overlaps and tiers left
unmapped are reported; the original file is kept in the project (``interchange/elan/``) so that export
writes every unmapped tier back.

Export: one tier per track and task ("<track> expression" with a controlled vocabulary, one
"<track> AU12" tier per AU), VA as an ELAN linked time series (CSV + _tsconf.xml), the video by a
relative path, and the kept tiers of the files imported for that video.
"""
from __future__ import annotations

import json
import mimetypes
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import numpy as np

from ..errors import AffectTraceError, LabelFileError, ProjectError
from ..fsio import atomic_write_bytes, remove_quietly, safe_stem
from ..labels import AU_MISSING, EXPR_MISSING, EXPRESSIONS, VA_RANGE
from ..safepaths import check_output, require_file
from ..tracks import Track, TrackKind
from .eaf import EafDoc, EafTier, read_eaf
from .eaf_write import Kept, OutTier, build_eaf
from .elan_ts import TSCONF_SUFFIX, SeriesTrack, file_url, local_path, read_series, write_series
from .framerule import frame_time, runs
from .gather import Gathered
from .valuemap import (
    AU_STATES,
    FACS,
    VA_DIMS,
    ValueMap,
    au_state_codes,
    name_pairs,
    raise_problems,
    task_of,
    unmapped_problem,
)
from .xmlfile import read_input

if TYPE_CHECKING:
    from ..project import Project

SIDECAR_DIR = Path("interchange") / "elan"
_TASK_WORD = re.compile(r"(?:^|[\s_-])(expression|expr|AU\d+|FACS|valence|arousal)$", re.IGNORECASE)


@dataclass
class ElanImport:
    tracks: list[str] = field(default_factory=list)
    tiers: dict[str, str] = field(default_factory=dict)  # tier -> task imported
    notes: list[str] = field(default_factory=list)

    def lines(self, video: str) -> list[str]:
        done = ", ".join(f"{t} -> {k}" for t, k in self.tiers.items())
        return [f"imported {len(self.tiers)} tier(s) into {len(self.tracks)} track(s) of {video}"
                f" ({', '.join(self.tracks)}): {done}"] + self.notes


def _auto_task(name: str) -> str | None:
    m = _TASK_WORD.search(name.strip())
    return task_of(m.group(1)) if m else None


def _owner(name: str) -> str:
    """The annotator a tier or series name gives: the name without its task word ('ann1 AU12' -> 'ann1')."""
    return _TASK_WORD.sub("", name.strip()).strip() or name.strip()


@dataclass
class _Reading:
    """One import's state: the checked document, the options, and what the tiers gave so far."""

    doc: EafDoc
    g: Gathered
    values: ValueMap
    specs: dict[str, str]
    who_of: dict[str, str]
    gaps_absent: bool
    origin: int = 0  # ms of the media at annotation time 0 (MEDIA_DESCRIPTOR TIME_ORIGIN)
    report: ElanImport = field(default_factory=ElanImport)
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)
    unmapped_tiers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def track_of(self, name: str, who: str) -> str:
        return self.who_of.get(name, self.who_of.get(who, who))

    def tiers(self, aus: tuple[str, ...]) -> None:
        doc = self.doc
        for tier in doc.tiers.values():
            task = self.specs.get(tier.id) or _auto_task(tier.id)
            why = None
            if task in VA_DIMS:
                why = "VA comes from linked time series, not from tiers"
            elif task is not None and doc.is_reference(tier):
                why = "it is a reference (symbolic) tier: its annotations have no times of their own"
            elif task is not None and task not in ("expr", FACS) and task not in aus:
                why = f"{task} is not in the project's AU set ({', '.join(aus)})"
            if why is not None and tier.id in self.specs:
                self.problems.append(f"tier {tier.id!r}: {why}")
                continue
            if why is not None and not doc.is_reference(tier):
                self.report.notes.append(f"tier {tier.id!r} not imported: {why}")
            if task is None or why is not None:
                self.unmapped_tiers.append(tier.id)
                continue
            name = self.track_of(tier.id, tier.annotator or tier.participant or _owner(tier.id))
            self.problems += _take_tier(doc, tier, task, name, self)
            self.report.tiers[tier.id] = task

    def series(self, series: dict[Path, list[SeriesTrack]]) -> None:
        for csv_path, tracks in series.items():
            for tr in tracks:
                task = self.specs.get(tr.name) or _auto_task(tr.name)
                if task not in VA_DIMS or tr.values is None:
                    self.report.notes.append(f"time series {tr.name!r} of {csv_path.name}: not VA, not imported")
                    continue
                bad = np.isfinite(tr.values) & ((tr.values < VA_RANGE[0]) | (tr.values > VA_RANGE[1]))
                if bad.any():
                    self.problems.append(f"{csv_path.name}: {tr.name} {tr.values[bad][0]:g} at frame "
                                         f"{int(np.argmax(bad))} is outside [-1, 1]")
                    continue
                self.g.va(self.track_of(tr.name, _owner(tr.name)), VA_DIMS.index(task), tr.values.astype(np.float32))
                self.report.tiers[tr.name] = task


def import_elan(project: Project, path: str | Path, video: str, maps: list[str] | None = None,
                tiers: list[str] | None = None, annotators: list[str] | None = None,
                skip_unmapped: bool = False, gaps_absent: bool = False) -> ElanImport:
    """Validate the whole file and every mapping, then write the labels in one step (nothing on error)."""
    path = Path(path)
    entry = project.videos.get(video)
    if entry is None:
        raise ProjectError(f"no video {video!r} in the project", project.folder)
    doc = read_eaf(require_file(path, LabelFileError))
    specs = {k: _spec_task(k, v) for k, v in name_pairs(tiers, "--tier").items()}
    r = _Reading(doc, Gathered(project, video, path), ValueMap.parse(maps), specs,
                 name_pairs(annotators, "--annotator"), gaps_absent)
    origin = r.origin = _media_origin(doc, project.media_path(video).name)
    if origin:
        r.report.notes.append(f"the video starts {origin} ms into the ELAN timeline (its TIME_ORIGIN): times shifted")
    series = _linked_series(doc, entry.fps_fraction, entry.frame_count, origin)
    named = set(doc.tiers) | {t.name for tracks in series.values() for t in tracks}
    missing = [k for k in specs if k not in named]
    if missing:
        raise LabelFileError(f"no tier or time series named {', '.join(map(repr, missing))} (tiers: "
                             f"{', '.join(doc.tiers) or 'none'})", path)
    r.tiers(project.au_set.aus)
    r.series(series)
    if r.unmapped and not skip_unmapped:
        r.problems.insert(0, unmapped_problem(r.unmapped, "annotation"))
    raise_problems(r.problems + r.g.conflicts, path)
    if not r.report.tiers:
        raise LabelFileError("nothing to import: no tier is mapped to a task (name tiers with --tier NAME=expr or "
                             f"NAME=AU12; tiers: {', '.join(doc.tiers) or 'none'})", path)
    r.report.notes += _notes(doc, r.unmapped_tiers, r.unmapped) + r.g.notes("annotation")
    data = read_input(path)
    mapped = sorted(r.report.tiers)
    kept = [t for t in doc.tiers if t not in r.report.tiers]
    r.report.tracks = r.g.commit(f"import-elan of {path}",
                                 lambda: _keep_original(project, video, path, data, mapped, kept))
    return r.report


def _spec_task(tier: str, spec: str) -> str:
    try:
        return task_of(spec)
    except ValueError:
        raise AffectTraceError(f"--tier {tier}={spec}: the task must be expr, AU<number>, valence or arousal") from None


def _take_tier(doc: EafDoc, tier: EafTier, task: str, name: str, r: _Reading) -> list[str]:
    g, values, unmapped = r.g, r.values, r.unmapped
    problems = []
    timed = []
    for a in tier.annotations:
        ta, tb = doc.times(a)
        if ta is None or tb is None:
            problems.append(f"tier {tier.id!r}: annotation {a.id} has no time (unaligned slot); align it in ELAN first")
            continue
        timed.append((ta, tb, a))
    timed.sort(key=lambda x: (x[0], x[1]))
    mentioned: set[str] = set()
    for ta, tb, a in timed:
        f0, f1 = g.span(Fraction(ta + r.origin, 1000), Fraction(tb + r.origin, 1000))
        if not g.label(name, task, a.value, values, f0, f1, f"tier {tier.id!r} annotation {a.id} ({ta}-{tb} ms)"):
            unmapped[(tier.id, a.value.strip())] += 1
        elif task == FACS:
            mentioned |= {au for au, _ in values.facs(a.value) or [] if au in g.project.au_set.aus}
    if r.gaps_absent and task != "expr":
        g.gaps_absent(name, sorted(mentioned) if task == FACS else [task], f"tier {tier.id!r} gap")
    return problems


def _media_origin(doc: EafDoc, media_name: str) -> int:
    """TIME_ORIGIN (ms) of the document's descriptor of the video: the one of that file name, else the only video."""
    media = [m for m in doc.media if m.get("MIME_TYPE", "").startswith("video")] or doc.media
    named = [m for m in media if Path(unquote(urlparse(m.get("MEDIA_URL", "")).path)).name == media_name]
    chosen = named or (media if len(media) == 1 else [])
    origin = chosen[0].get("TIME_ORIGIN", "0") if chosen else "0"
    return int(origin) if origin.strip().lstrip("-").isdigit() else 0


def _linked_series(doc: EafDoc, fps: Fraction, n: int, origin: int) -> dict[Path, list[SeriesTrack]]:
    out: dict[Path, list[SeriesTrack]] = {}
    for lf in doc.linked:
        rel, url = lf.get("RELATIVE_LINK_URL"), lf.get("LINK_URL", "")
        candidates = [local_path(u, doc.path.parent) for u in (rel, url) if u]
        conf = next((c for c in candidates if c.exists()), candidates[0] if candidates else None)
        if conf is None or not conf.name.endswith(TSCONF_SUFFIX):
            continue
        if not conf.exists():
            raise LabelFileError(f"linked time-series configuration {conf.name} is missing", doc.path)
        out.update(read_series(conf, fps, n, origin))
    return out


def _notes(doc: EafDoc, unmapped_tiers: list[str], skipped: Counter[tuple[str, str]]) -> list[str]:
    out = []
    refs = [t for t in unmapped_tiers if doc.is_reference(doc.tiers[t])]
    plain = [t for t in unmapped_tiers if t not in refs]
    if refs:
        out.append(f"reference (symbolic) tier(s), not time-aligned, not imported: {', '.join(refs)}")
    if plain:
        out.append(f"tier(s) not mapped to a task, not imported: {', '.join(plain)}")
    if unmapped_tiers:
        out.append("unmapped tiers are kept in the project and written back by export-elan")
    if skipped:
        out.append(f"left unlabelled: {sum(skipped.values())} annotation(s) with unmapped values "
                   + ", ".join(f"{v!r}" for (_, v) in list(skipped)[:8]))
    return out


# ------------------------------------------------------------------ the kept original

def _sidecar(project: Project, video: str) -> Path:
    return project.folder / SIDECAR_DIR / safe_stem(video)


def _keep_original(project: Project, video: str, path: Path, data: bytes, mapped: list[str], kept: list[str]) -> None:
    """Store the file for export-elan. A file imported earlier whose unmapped tiers share a name with this one's
    (the same file again, or an export of it) is replaced: its tiers come back once, as this file has them."""
    folder = _sidecar(project, video)
    folder.mkdir(parents=True, exist_ok=True)
    index = _kept_index(folder)
    for old, rec in list(index.items()):
        if set(rec.get("kept", [])) & set(kept):
            del index[old]
    stem = safe_stem(path.name)
    atomic_write_bytes(folder / f"{stem}.eaf", data)
    index[stem] = {"file": path.name, "video": video, "mapped": mapped, "kept": kept}
    atomic_write_bytes(folder / "kept.json", json.dumps(index, ensure_ascii=False, indent=1).encode("utf-8"))
    for f in folder.glob("*.eaf"):
        if f.stem not in index:
            remove_quietly(f)


def _kept_index(folder: Path) -> dict[str, dict]:
    p = folder / "kept.json"
    if not p.exists():
        return {}
    try:
        d = json.loads(read_input(p, ProjectError).decode("utf-8"))
        if not isinstance(d, dict):
            raise ValueError("not an object")
        return d
    except ValueError as e:
        raise ProjectError(f"unreadable record of imported ELAN files: {e}", p) from None


def kept_tiers(project: Project, video: str) -> list[Kept]:
    """The unmapped tiers (with the parents they depend on) of every ELAN file imported for ``video``."""
    folder = _sidecar(project, video)
    out = []
    for stem, rec in sorted(_kept_index(folder).items()):
        doc = read_eaf(folder / f"{stem}.eaf")
        keep = {t for t in doc.tiers if t not in set(rec.get("mapped", []))}
        for t in list(keep):
            p = doc.tiers[t].parent
            while p is not None:
                keep.add(p)
                p = doc.tiers[p].parent
        depth = {t: _depth(doc, t) for t in keep}
        ordered = sorted(keep, key=lambda t: (depth[t], list(doc.tiers).index(t)))
        if ordered:
            out.append(Kept(doc, ordered))
    return out


def _depth(doc: EafDoc, tier: str) -> int:
    d, p = 0, doc.tiers[tier].parent
    while p is not None:
        d, p = d + 1, doc.tiers[p].parent
    return d


# ------------------------------------------------------------------ export

@dataclass
class ElanExport:
    files: list[Path] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    series: list[str] = field(default_factory=list)
    kept: int = 0

    def lines(self) -> list[str]:
        extra = [f"{len(self.series)} linked time series"] if self.series else []
        extra += [f"{self.kept} tier(s) kept from imported ELAN files"] if self.kept else []
        return [f"wrote {self.files[0]} with {len(self.tiers)} tier(s)" + "".join(f", {e}" for e in extra)] + \
            [f"wrote {f}" for f in self.files[1:]]


class NothingToExport(ProjectError):
    """The video has no labels in the tracks chosen for export."""


def export_tracks(project: Project, video: str, names: list[str] | None) -> list[Track]:
    """The named tracks of ``video``, or by default its human and fused tracks."""
    have = project.track_names(video)
    if names:
        missing = [t for t in names if t not in have]
        if missing:
            raise ProjectError(f"video {video!r} has no track {', '.join(map(repr, missing))} "
                               f"(tracks: {', '.join(have) or 'none'})", project.folder)
        return [project.track(video, t) for t in names]
    return [project.track(video, t) for t in have if project.track_source(video, t).kind != TrackKind.MODEL]


def media_refs(project: Project, video: str, out_dir: Path) -> tuple[Path, str]:
    """The video's absolute path and its path relative to ``out_dir`` (POSIX, './' for a file beside it)."""
    media = project.media_path(video).absolute()
    rel = Path(os.path.relpath(media, out_dir.absolute())).as_posix()
    return media, rel if rel.startswith("../") else f"./{rel}"


def _out_tiers(t: Track, fps: Fraction) -> list[OutTier]:
    """A track's expression tier and one tier per labelled AU, as runs of equal values."""
    out = []
    if (t.expr != EXPR_MISSING).any():
        out.append(OutTier(f"{t.name} expression", "expr", t.name,
                           [(frame_time(a, fps, 1000), frame_time(b, fps, 1000), EXPRESSIONS[v])
                            for a, b, v in runs(t.expr, EXPR_MISSING)]))
    for j, au in enumerate(t.au_names):
        if (t.au[:, j] != AU_MISSING).any():
            code = au_state_codes(t.au[:, j], None if t.au_intensity is None else t.au_intensity[:, j])
            out.append(OutTier(f"{t.name} {au}", "au", t.name,
                               [(frame_time(a, fps, 1000), frame_time(b, fps, 1000), AU_STATES[v])
                                for a, b, v in runs(code, -1)]))
    return out


def check_export_files(project: Project, video: str, paths: list[Path], overwrite: bool, fmt: str) -> None:
    """Refuse, before anything is written, an export file that is the video, a file of the project, a link,
    a FIFO or a folder, or that exists when ``overwrite`` was not given."""
    for p in paths:
        check_output(p, (project.folder, project.media_path(video)), "text", force=True)
        if p.exists() and not overwrite:
            raise AffectTraceError(f"already exists: export-{fmt.lower()} does not overwrite {fmt} files unless "
                                   "asked (--overwrite)", p)


def _link(path: Path, mime: str) -> dict[str, str]:
    return {"LINK_URL": file_url(path), "MIME_TYPE": mime, "RELATIVE_LINK_URL": f"./{path.name}"}


def export_elan(project: Project, video: str, out_dir: str | Path, names: list[str] | None = None,
                overwrite: bool = False) -> ElanExport:
    out_dir = Path(out_dir)
    entry = project.videos.get(video)
    if entry is None:
        raise ProjectError(f"no video {video!r} in the project", project.folder)
    fps, n = entry.fps_fraction, entry.frame_count
    tracks = export_tracks(project, video, names)
    tiers = [tier for t in tracks for tier in _out_tiers(t, fps)]
    columns = {f"{t.name} {dim}": t.va[:, d] for t in tracks if (~np.isnan(t.va)).any()
               for d, dim in enumerate(VA_DIMS)}
    kept = kept_tiers(project, video)
    if not tiers and not columns and not kept:
        raise NothingToExport(f"nothing to export: video {video!r} has no labels in "
                           f"{', '.join(t.name for t in tracks) or 'any human track'}", project.folder)
    stem = out_dir / video
    eaf_path = Path(f"{stem}.eaf")
    csv_path, conf_path = Path(f"{stem}_va.csv"), Path(f"{stem}{TSCONF_SUFFIX}")
    check_export_files(project, video, [eaf_path] + ([csv_path, conf_path] if columns else []), overwrite, "ELAN")
    out_dir.mkdir(parents=True, exist_ok=True)
    media, rel = media_refs(project, video, out_dir)
    report = ElanExport([eaf_path], [t.id for t in tiers], list(columns), sum(len(k.tiers) for k in kept))
    linked = []
    if columns:
        csv_bytes, conf_bytes = write_series(csv_path, n, fps, columns)
        atomic_write_bytes(csv_path, csv_bytes, AffectTraceError)
        atomic_write_bytes(conf_path, conf_bytes, AffectTraceError)
        linked = [_link(conf_path, "text/xml"), _link(csv_path, "text/csv")]
        report.files += [csv_path, conf_path]
    media_desc = [{"MEDIA_URL": media.as_uri(), "MIME_TYPE": mimetypes.guess_type(media.name)[0] or "video/*",
                   "RELATIVE_MEDIA_URL": rel}]
    atomic_write_bytes(eaf_path, build_eaf(media_desc, linked, tiers, kept), AffectTraceError)
    return report
