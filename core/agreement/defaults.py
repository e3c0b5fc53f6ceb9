"""Defaults of the agreement and fusion commands (no imports: the CLI reads them when it starts)."""

DEFAULT_MAX_LAG_S = 6.0  # the longest reaction lag searched unless asked otherwise (annotators react 1-6 s late)
