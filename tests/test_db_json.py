"""JSON columns keep amounts exact on every backend and engine kind (pooled or not)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from plugin.db import make_engine


@pytest.mark.parametrize("pooled", [True, False])
def test_json_columns_write_and_read_decimals_exactly(database_url: str, pooled: bool) -> None:
    engine = make_engine(database_url, pooled=pooled)
    try:
        dumps = engine.dialect._json_serializer  # what SQLAlchemy's JSON type writes with
        loads = engine.dialect._json_deserializer
        assert dumps is not None
        assert loads is not None
        written = dumps({"Amount": Decimal("0.1") + Decimal("0.2")})
        assert written == '{"Amount": 0.3}'
        assert loads(written) == {"Amount": Decimal("0.3")}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
