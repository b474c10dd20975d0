"""Imports every domain's models so metadata (and Alembic autogenerate) sees them all."""

from app.ai.models import AIQueryLog  # noqa: F401
from app.api.models import IdempotencyRecord  # noqa: F401
from app.auth.models import ApiToken, User  # noqa: F401
from app.calendars.models import CalendarFeedKey  # noqa: F401
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
from app.catalog.version import catalog_version  # noqa: F401  (its flush listener bumps the catalogue version)
from app.clients.models import (  # noqa: F401
    Client,
    ClientEvent,
    ClientImport,
    ClientMerge,
    ClientPreferences,
    ClientUpdateRequest,
    ConsentEvent,
    Suppression,
)
from app.comms.models import CommunicationLog, FakeMessage, InboundSms, SmsTemplate  # noqa: F401
from app.core.settings import Setting  # noqa: F401
from app.crm.models import (  # noqa: F401
    Activity,
    Campaign,
    CampaignInteraction,
    CampaignTarget,
    Company,
    Contact,
    Deal,
    Lead,
)
from app.sales.models import (  # noqa: F401
    Cart,
    CartHold,
    CartProductLine,
    CashClose,
    CashCloseLine,
    Discount,
    DiscountCode,
    FakeFlowPayment,
    FlowTransaction,
    GiftCard,
    GiftCardEntry,
    Order,
    Payment,
    PaymentMethod,
    ProductLine,
    ServiceLine,
)
from app.waitlist.models import WaitlistEntry  # noqa: F401
from app.web.models import FormSubmission  # noqa: F401
from app.webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: F401
