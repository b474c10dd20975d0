"""Caja diaria, caja diaria recepcionistas and cierre de caja (spec reports.md §2)."""
