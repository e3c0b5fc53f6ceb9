"""Comparing tracks: ABAW scores of any track against any reference (the code of `affecttrace evaluate`),
a sliding-window agreement series, its worst segments and "next disagreement"."""
from .scores import (
                     PROJECT_ROW,
                     TABLE_COLUMNS,
                     all_track_specs,
                     au_rules,
                     compare_tracks,
                     comparison_rows,
                     find_track,
                     track_pairs,
                     write_table_csv,
)
from .window import (
                     DISAGREEMENT_BELOW,
                     AgreementSeries,
                     Segment,
                     agreement_series,
                     disagreement_mask,
                     next_disagreement,
                     rolling_au_f1,
                     rolling_ccc,
                     rolling_expr_f1,
                     worst_segments,
)

__all__ = [
    "DISAGREEMENT_BELOW", "PROJECT_ROW", "TABLE_COLUMNS", "AgreementSeries", "Segment", "agreement_series",
    "all_track_specs", "au_rules", "compare_tracks", "comparison_rows", "disagreement_mask", "find_track",
    "next_disagreement",
    "rolling_au_f1", "rolling_ccc", "rolling_expr_f1", "track_pairs", "worst_segments", "write_table_csv",
]
