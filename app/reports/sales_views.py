"""Sales list/detail/print and purchases lists (spec reports.md §5–6)."""
