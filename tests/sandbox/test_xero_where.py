"""The ``where`` filter parser on its own."""

from __future__ import annotations

import pytest

from sandbox.xero.where import WhereError
from sandbox.xero.where import compile_where

DOC = {
    "Name": "Amazon Business",
    "Status": "ACTIVE",
    "Total": 59.98,
    "IsReconciled": False,
    "Date": "/Date(1777593600000+0000)/",
    "Contact": {"ContactID": "8D2C0225-9467-5F55-8335-E8B4D9C2A757"},
}


@pytest.mark.parametrize(
    ("where", "matches"),
    [
        ('Name=="Amazon Business"', True),
        ('Name=="amazon business"', True),
        ('Name!="Amazon Business"', False),
        ('Name.Contains("zon B")', True),
        ('Name.StartsWith("Amaz")', True),
        ('Name.EndsWith("Ltd")', False),
        ('Name.ToLower()=="amazon business"', True),
        ('Status=="ACTIVE" AND Total>50', True),
        ('Status=="ARCHIVED" OR Total<60', True),
        ('Status=="ACTIVE" && (Total>=100 || Name=="x")', False),
        ('NOT Status=="ARCHIVED"', True),
        ("IsReconciled==false", True),
        ('Contact.ContactID=guid("8d2c0225-9467-5f55-8335-e8b4d9c2a757")', True),
        ('Contact.ContactID==guid("00000000-0000-0000-0000-000000000000")', False),
        ("Date>=DateTime(2026,05,01)", True),
        ("Date>DateTime(2026,05,01)", False),
        ("Date<DateTime(2026,05,01,00,00,01)", True),
        ("Missing==null", True),
        ('Missing=="x"', False),
        ("", True),
    ],
)
def test_where(where, matches):
    assert compile_where(where)(DOC) is matches


@pytest.mark.parametrize(
    "where", ['Name=="x', "Name==", "Name== AND", "(Name==1", 'Name=="x" garbage', "DateTime(1,2)"]
)
def test_bad_where_raises(where):
    with pytest.raises(WhereError):
        compile_where(where)(DOC)
