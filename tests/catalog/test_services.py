import pytest
import sqlalchemy as sa

from app.catalog.models import Product, Purchase, Service, StockMovement
from app.catalog.services import (
    adjust_stock,
    change_stock,
    create_purchase,
    delete_purchase,
    delete_purchase_line,
    save_service_grid,
    update_purchase_line,
)
from app.core.errors import ConflictError, ValidationError


def movements(db_session, product):
    return db_session.execute(
        sa.select(StockMovement.delta, StockMovement.reason)
        .where(StockMovement.product_id == product.id)
        .order_by(StockMovement.id)
    ).all()


def test_purchase_raises_stock_in_same_transaction(db_session, make_product, make_user):
    agua = make_product(name="Agua", stock=5)
    user = make_user("gerente")
    purchase = create_purchase(
        lines=[
            {"product_id": agua.id, "quantity": 12, "unit_price": 700},
            {"description": "Flete", "quantity": 1, "unit_price": 5000},
        ],
        by=user,
        document_number="F-1",
    )
    assert purchase.total == 12 * 700 + 5000
    assert agua.stock == 17
    assert movements(db_session, agua) == [(12, "compra")]
    assert purchase.lines[0].description == "Agua"


def test_edit_and_delete_purchase_lines_move_stock(db_session, make_product, make_user):
    jugo = make_product(stock=0)
    user = make_user("gerente")
    purchase = create_purchase(lines=[{"product_id": jugo.id, "quantity": 10, "unit_price": 1000}], by=user)
    line = purchase.lines[0]
    update_purchase_line(line, quantity=6, unit_price=1200, by=user)
    assert jugo.stock == 6 and purchase.total == 7200
    change_stock(jugo, -5, reason="venta", by=user)
    with pytest.raises(ConflictError, match="No se puede eliminar: el stock quedaría negativo."):
        delete_purchase_line(line, by=user)
    assert jugo.stock == 1
    change_stock(jugo, 5, reason="venta_anulada", by=user)
    delete_purchase(purchase, by=user)
    assert jugo.stock == 0
    assert db_session.get(Purchase, purchase.id) is None
    assert [r for _, r in movements(db_session, jugo)] == [
        "compra",
        "compra_editada",
        "venta",
        "venta_anulada",
        "compra_eliminada",
    ]


def test_stock_never_negative(db_session, make_product, make_user):
    cerveza = make_product(name="Cerveza", stock=2)
    with pytest.raises(ConflictError, match="Stock insuficiente para Cerveza: disponible 2."):
        change_stock(cerveza, -3, reason="venta")
    assert cerveza.stock == 2
    nested = db_session.begin_nested()
    cerveza.stock = -1
    with pytest.raises(sa.exc.IntegrityError):
        db_session.flush()
    nested.rollback()


def test_gift_card_products_do_not_track_stock(db_session, make_product):
    card = make_product(is_gift_card=True, stock=0)
    assert change_stock(card, -1, reason="venta") is None
    assert card.stock == 0


def test_manual_adjustment_needs_reason(db_session, make_product, make_user):
    product = make_product(stock=3)
    with pytest.raises(ValidationError, match="Indique el motivo"):
        adjust_stock(product, -1, note=" ", by=make_user("gerente"))
    adjust_stock(product, -1, note="Botella rota", by=make_user("gerente"))
    assert product.stock == 2


def test_purchase_validation(db_session, make_user):
    user = make_user("gerente")
    with pytest.raises(ValidationError, match="al menos una línea"):
        create_purchase(lines=[], by=user)
    with pytest.raises(ValidationError, match="La cantidad debe ser al menos 1."):
        create_purchase(lines=[{"description": "x", "quantity": 0, "unit_price": 1}], by=user)


def test_service_grid_saved_canonical(db_session, make_service):
    service = make_service()
    save_service_grid(service, {"friday": ["19:00", "14:00"]})
    db_session.expire(service)
    stored = db_session.get(Service, service.id).slot_grid
    assert stored["friday"] == ["14:00", "19:00"] and stored["monday"] == [] and len(stored) == 7
    with pytest.raises(ValidationError, match="Día desconocido: lunes"):
        save_service_grid(service, {"lunes": []})


def test_product_history_blocks_delete(db_session, make_product):
    fresh = make_product()
    assert not fresh.has_history()
    used = make_product(stock=3)
    change_stock(used, -1, reason="venta")
    assert used.has_history()
    assert db_session.get(Product, used.id).stock == 2
