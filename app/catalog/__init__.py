"""Services, categories, providers, products, purchases and stock, slot grids and blocks."""
