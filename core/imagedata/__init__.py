"""Still-image databases (AffectNet in both layouts, RAF-DB basic, class folders, image CSV tables) read
into one face-crop dataset cache each: uint8 112x112 crops aligned as videos are, labels in a recorded
label space, splits. No torch here; core.data.images serves the caches to training.
"""
from .cache import ImageDataset
from .importer import DATABASES, ImportOptions, ImportReport, import_images, read_database
from .records import ImageRow, InvalidRowsError, RowSet

__all__ = ["DATABASES", "ImageDataset", "ImageRow", "ImportOptions", "ImportReport", "InvalidRowsError",
           "RowSet", "import_images", "read_database"]
