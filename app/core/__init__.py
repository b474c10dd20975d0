"""Cross-cutting building blocks without routes: db base, money, phones, clock, errors, xlsx, pagination."""
