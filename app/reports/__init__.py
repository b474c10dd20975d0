"""Reports: caja diaria and cierre de caja, sales and purchases lists (spec reports.md)."""
