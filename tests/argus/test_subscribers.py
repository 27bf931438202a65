"""Subscriber CSV import: good rows stored, bad rows reported by line."""

import pytest
from sqlmodel import select

from argus.errors import InputError
from argus.storage.db import session_scope
from argus.storage.tables import Subscriber, SubscriberVillage, Village
from argus.subscribers import import_subscribers, masked_phone

HEADER = "phone,name,language,channels,village_ids,role,consent\n"


def _write(tmp_path, text: str, *, bom: bool = False):
    path = tmp_path / "subscribers.csv"
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


@pytest.fixture
def village(engine) -> str:
    with session_scope(engine) as session:
        session.add(Village(village_id="node/1", name="Barpeta", lat=26.3, lon=91.0))
    return "node/1"


def test_bad_rows_reported_good_rows_kept(engine, village, tmp_path):
    path = _write(
        tmp_path,
        HEADER
        + "+919800000001,Anu,as,sms;voice,node/1,volunteer,yes\n"
        + "98000,Bad phone,en,sms,node/1,resident,yes\n"
        + "+919800000003,Bad language,fr,sms,node/1,resident,yes\n"
        + "+919800000004,Bad channel,en,sms;fax,node/1,resident,yes\n"
        + "+919800000005,Bad consent,en,sms,node/1,resident,true\n",
    )

    with session_scope(engine) as session:
        result = import_subscribers(session, path)
        phones = session.exec(select(Subscriber.phone)).all()

    assert result.stored == 1
    assert phones == ["+919800000001"]
    lines = [
        problem.split(": skipped:")[0].rsplit(":", 1)[1] for problem in result.problems
    ]
    assert lines == ["3", "4", "5", "6"]
    assert "E.164" in result.problems[0]
    assert "98000" not in result.problems[0]
    assert "'fr'" in result.problems[1]
    assert "'sms;fax'" in result.problems[2]
    assert "'true'" in result.problems[3]


def test_unknown_village_is_stored_with_warning(engine, village, tmp_path):
    path = _write(
        tmp_path, HEADER + "+919800000001,Anu,bn,sms,node/1;node/404,resident,yes\n"
    )

    with session_scope(engine) as session:
        result = import_subscribers(session, path)
        links = session.exec(select(SubscriberVillage.village_id)).all()

    assert result.stored == 1
    assert sorted(links) == ["node/1", "node/404"]
    assert "node/404" in result.problems[0]


def test_spreadsheet_byte_order_mark_is_read(engine, village, tmp_path):
    path = _write(
        tmp_path,
        HEADER + "+919800000001,Anu,hi,whatsapp,node/1,official,no\n",
        bom=True,
    )

    with session_scope(engine) as session:
        result = import_subscribers(session, path)
        subscriber = session.exec(select(Subscriber)).one()

    assert result.stored == 1
    assert subscriber.consent is False
    assert subscriber.role == "official"


def test_missing_column_raises(engine, tmp_path):
    path = _write(tmp_path, "phone,name\n+919800000001,Anu\n")

    with pytest.raises(InputError, match="missing column"), session_scope(engine) as s:
        import_subscribers(s, path)


def test_masked_phone_hides_digits():
    assert masked_phone("+919800000001") == "+91…01"


def test_phone_separators_are_removed(engine, village, tmp_path):
    path = _write(
        tmp_path,
        HEADER
        + "+91 98000-00001,Anu,as,sms,node/1,resident,yes\n"
        + "+91 (98000) 00.002,Bina,as,sms,node/1,resident,yes\n",
    )

    with session_scope(engine) as session:
        result = import_subscribers(session, path)
        phones = session.exec(select(Subscriber.phone).order_by(Subscriber.id)).all()

    assert result.problems == []
    assert phones == ["+919800000001", "+919800000002"]


def test_repeated_phone_is_reported_and_replaced(engine, village, tmp_path):
    path = _write(
        tmp_path,
        HEADER
        + "+919800000001,Anu,as,sms,node/1,resident,yes\n"
        + "+91 98000 00001,Anu,hi,voice,node/1,volunteer,yes\n",
    )

    with session_scope(engine) as session:
        result = import_subscribers(session, path)
        subscriber = session.exec(select(Subscriber)).one()

    assert result.stored == 1
    assert len(result.problems) == 1
    assert "subscribers.csv:3: phone '+91…01' is also on line 2" in result.problems[0]
    assert "9800000001" not in result.problems[0]
    assert subscriber.language == "hi"
    assert subscriber.channels == "voice"
