"""Orders (VentaReserva), service/product lines, discounts, availability and cart holds."""
