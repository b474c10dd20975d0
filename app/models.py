"""Imports every domain's models so metadata (and Alembic autogenerate) sees them all."""

from app.auth.models import ApiToken, User  # noqa: F401
from app.catalog.models import (  # noqa: F401
    Product,
    ProductCategory,
    Provider,
    ProviderAbsence,
    Purchase,
    PurchaseLine,
    Service,
    ServiceBlock,
    ServiceCategory,
    SlotBlock,
    StockMovement,
)
from app.clients.models import Client, ClientEvent, ClientPreferences, ConsentEvent, Suppression  # noqa: F401
