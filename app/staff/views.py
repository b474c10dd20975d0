"""`/ventas/admin-dashboard/` — "Sistema de Gestión Aremko" (spec reports.md §9)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for
from flask_login import current_user

from app.auth.decorators import role_required

bp = Blueprint("staff", __name__, url_prefix="/ventas")

# (section, label, endpoint, roles). Entries whose endpoint is not installed yet are not shown.
HUB_LINKS = [
    ("Recepción", "Tablero del día", "frontdesk.board", {"recepcion", "gerente", "admin"}),
    ("Ventas y Reservas", "Ventas y reservas", "reports.order_list", {"recepcion", "gerente", "admin"}),
    ("Reportes", "Caja diaria", "reports.cash_daily", {"gerente", "admin"}),
    ("Reportes", "Segmentación de clientes", "reports.segmentation_board", {"marketing", "gerente", "admin"}),
    ("Reportes", "Asistente IA", "ai.chat", {"marketing", "gerente", "admin"}),
    ("Clientes y CRM", "Copiloto de campañas (IA)", "ai.copilot", {"marketing", "gerente", "admin"}),
    ("Clientes y CRM", "Clientes", "clients.client_list", {"recepcion", "marketing", "gerente", "admin"}),
    ("Catálogo y Compras", "Servicios", "service.index_view", {"recepcion", "marketing", "gerente", "admin"}),
    (
        "Catálogo y Compras",
        "Categorías de servicio",
        "servicecategory.index_view",
        {"recepcion", "marketing", "gerente", "admin"},
    ),
    ("Catálogo y Compras", "Productos", "product.index_view", {"recepcion", "marketing", "gerente", "admin"}),
    ("Catálogo y Compras", "Proveedores", "provider.index_view", {"recepcion", "marketing", "gerente", "admin"}),
    ("Catálogo y Compras", "Compras", "purchase.index_view", {"gerente", "admin"}),
    ("Recepción", "Bloqueos", "frontdesk.block_list", {"recepcion", "gerente", "admin"}),
    ("Catálogo y Compras", "Bloqueos (administración)", "serviceblock.index_view", {"recepcion", "gerente", "admin"}),
    ("Catálogo y Compras", "Nueva compra", "frontdesk.purchase_new", {"gerente", "admin"}),
    (
        "Clientes y CRM",
        "Clientes (administración)",
        "client.index_view",
        {"recepcion", "marketing", "gerente", "admin"},
    ),
    ("Clientes y CRM", "Nuevo cliente", "clients.client_new", {"recepcion", "gerente", "admin"}),
    (
        "Clientes y CRM",
        "Actualizaciones pendientes",
        "clients.client_updates",
        {"recepcion", "gerente", "admin"},
    ),
    ("Comunicaciones", "Registro de mensajes", "comms.log_list", {"marketing", "gerente", "admin"}),
    ("Comunicaciones", "Plantillas SMS", "comms.template_list", {"marketing", "gerente", "admin"}),
    ("Configuración", "Configuración del sistema", "configuracion.settings_page", {"admin"}),
    ("Configuración", "Usuarios", "user.index_view", {"admin"}),
    ("Configuración", "Administración", "admin.index", {"recepcion", "marketing", "gerente", "admin"}),
    ("Reportes", "Servicios vendidos", "reports.services_sold", {"gerente", "admin"}),
    ("Reportes", "Productos vendidos", "reports.products_sold", {"gerente", "admin"}),
    ("Reportes", "Auditoría de movimientos", "reports.audit_log", {"gerente", "admin"}),
    ("Clientes y CRM", "Exportar clientes", "clients.client_export", {"marketing", "gerente", "admin"}),
    ("Clientes y CRM", "Importar clientes", "clients.client_import", {"gerente", "admin"}),
    ("Clientes y CRM", "Clientes duplicados", "clients.client_duplicates", {"gerente", "admin"}),
    ("Configuración", "Mis tokens de API", "tokens.token_list", {"recepcion", "marketing", "gerente", "admin"}),
    ("Configuración", "Webhooks", "webhooks.endpoint_list", {"admin"}),
    ("Configuración", "Calendarios", "calendars.feed_list", {"gerente", "admin"}),
    ("Configuración", "Políticas de reserva", "frontdesk.booking_policies", {"gerente", "admin"}),
]


def hub_sections(role: str) -> list[tuple[str, list[tuple[str, str]]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    for section, label, endpoint, roles in HUB_LINKS:
        if role in roles and endpoint in current_app.view_functions:
            sections.setdefault(section, []).append((label, url_for(endpoint)))
    return list(sections.items())


@bp.get("/admin-dashboard/")
@role_required()
def dashboard():
    return render_template("staff/dashboard.html", sections=hub_sections(current_user.role))


# The staff navbar: a few direct links, then the hub's sections as dropdowns (short labels), so that no role's bar
# wraps at 1280 px (UX review D9). Links a role may not open are never listed.
STAFF_NAV = [
    ("Panel", "staff.dashboard", {"recepcion", "marketing", "gerente", "admin"}),
    ("Recepción", "frontdesk.board", {"recepcion", "gerente", "admin"}),
    ("Ventas", "reports.order_list", {"recepcion", "gerente", "admin"}),
    ("Clientes", "clients.client_list", {"recepcion", "marketing", "gerente", "admin"}),
]
MENU_LABELS = {
    "Clientes y CRM": "CRM",
    "Catálogo y Compras": "Catálogo",
    "Comunicaciones": "Mensajes",
    "Configuración": "Configuración",
    "Reportes": "Reportes",
}


def staff_menu(role: str) -> tuple[list[tuple[str, str]], list[tuple[str, list[tuple[str, str]]]]]:
    """(direct links, [(dropdown label, links)]) for `role`; hub entries already shown as direct links are left out."""
    direct = [
        (label, url_for(endpoint))
        for label, endpoint, roles in STAFF_NAV
        if role in roles and endpoint in current_app.view_functions
    ]
    shown = {href for _, href in direct}
    groups = []
    for section, links in hub_sections(role):
        links = [(label, href) for label, href in links if href not in shown]
        if links:
            groups.append((MENU_LABELS.get(section, section), links))
    return direct, groups


@bp.app_context_processor
def _staff_context():
    def staff_nav():
        if not current_user.is_authenticated:
            return [], []
        return staff_menu(current_user.role)

    return {"staff_nav": staff_nav}
