"""Label interchange: Aff-Wild2 label trees (2020 and 2022+ layouts) and tidy CSV tables.

    import_affwild2(root, project, media=None, crops=None, skip_invalid=False) -> ImportReport
    export_affwild2(project, out, layout=None, track=None, annotator=None, fused=False) -> ExportReport
    export_csv(project, out) / import_csv(project, path)
    parse_label_file(path, task) -> (LabelFile | None, problems); read_dataset(root) -> DatasetRead
"""
from .affwild2 import ImportReport, InvalidLabelsError, import_affwild2
from .csvio import export_csv, import_csv
from .dataset import read_dataset, write_dataset
from .export import ExportReport, export_affwild2
from .labelfile import FileFormat, LabelFile, Problem, parse_label_file, render_file

__all__ = [
    "ExportReport", "FileFormat", "ImportReport", "InvalidLabelsError", "LabelFile", "Problem", "export_affwild2",
    "export_csv", "import_affwild2", "import_csv", "parse_label_file", "read_dataset", "render_file", "write_dataset",
]
