"""The service directory: row validation against the gazetteer, and look-up fallbacks."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from bot.knowledge import load_helplines
from bot.knowledge.directory import (
    COLUMNS,
    DIRECTORY_CSV,
    RowError,
    Service,
    ServiceLookup,
    ServiceType,
    load_directory,
    lookup_services,
    validate_rows,
)

GOOD = {
    "service_type": "dlsa",
    "name": "District Legal Services Authority, Ernakulam",
    "state": "Kerala",
    "district": "Ernakulam",
    "lgd_district_code": "555",
    "address": "District Court Complex",
    "phone": "0484-2396717",
    "hours": "10:00-17:00",
    "source_url": "https://example.gov.in/dlsa",
    "last_checked": "2026-11-25",
}


def row(**changes: str) -> dict[str, str]:
    return {**GOOD, **changes}


def errors_of(**changes: str) -> list[RowError]:
    valid, errors = validate_rows([row(**changes)])
    assert valid == []
    return errors


def test_a_good_row_is_valid() -> None:
    valid, errors = validate_rows([row()])
    assert errors == []
    [service] = valid
    assert service.service_type is ServiceType.DLSA
    assert (service.state, service.district, service.lgd_district_code) == (
        "Kerala",
        "Ernakulam",
        555,
    )
    assert service.phones == ("0484-2396717",)
    assert service.last_checked == date(2026, 11, 25)


def test_state_and_district_spelling_is_the_gazetteers_in_any_case() -> None:
    valid, errors = validate_rows([row(state="KERALA", district="ernakulam")])
    assert errors == [] and valid[0].district == "Ernakulam"


def test_state_wide_row_without_a_district_is_valid() -> None:
    valid, errors = validate_rows([row(district="", lgd_district_code="")])
    assert errors == [] and valid[0].district is None


@pytest.mark.parametrize(
    ("changes", "column", "words"),
    [
        ({"state": "Keralam Pradesh"}, "state", "unknown state"),
        ({"state": ""}, "state", "unknown state"),
        ({"district": "Murshidabad"}, "district", "unknown district 'Murshidabad' of Kerala"),
        ({"lgd_district_code": "319"}, "lgd_district_code", "Ernakulam is 555"),
        ({"district": "", "lgd_district_code": "555"}, "lgd_district_code", "district is empty"),
        ({"phone": "98765"}, None, None),  # a five-digit short code is fine
        ({"phone": "call the office"}, "phone", "not a phone number"),
        ({"phone": "०४८४-२३९६७१७"}, "phone", "ASCII digits"),
        ({"phone": "12"}, "phone", "not a phone number"),
        ({"phone": "0484-2396717;"}, "phone", "empty number"),
        ({"source_url": ""}, "source_url", "is missing"),
        ({"source_url": "dslsa website"}, "source_url", "not a web address"),
        ({"last_checked": "25/11/2026"}, "last_checked", "not a date"),
        ({"service_type": "hospital"}, "service_type", "unknown type"),
        ({"name": " "}, "name", "is empty"),
    ],
)
def test_row_errors_name_the_column(
    changes: dict[str, str], column: str | None, words: str | None
) -> None:
    valid, errors = validate_rows([row(**changes)])
    if column is None:
        assert errors == [] and len(valid) == 1
        return
    assert [e.column for e in errors] == [column]
    assert words is not None and words in errors[0].message
    assert str(errors[0]).startswith(f"row 1: {column}: ")


def test_errors_are_numbered_by_row_and_good_rows_survive() -> None:
    valid, errors = validate_rows([row(), row(phone="x"), row(state="Atlantis", source_url="")])
    assert len(valid) == 1
    assert [(e.row, e.column) for e in errors] == [(2, "phone"), (3, "state"), (3, "source_url")]


def test_missing_columns_are_reported() -> None:
    partial = {k: v for k, v in GOOD.items() if k not in ("source_url", "hours")}
    [error] = errors_of_rows([partial])
    assert error.column == "hours,source_url" and "missing" in error.message


def errors_of_rows(rows: list[dict[str, str]]) -> list[RowError]:
    return validate_rows(rows)[1]


def test_the_projects_directory_is_valid_and_sourced() -> None:
    with DIRECTORY_CSV.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        rows = list(reader)
    valid, errors = validate_rows(rows)
    assert errors == []
    assert len(valid) == len(rows) == len(load_directory())
    assert all(s.source_url.startswith(("http://", "https://")) for s in valid)


# --- look-up falls back district -> state -> national ----------------------------------


def service(
    kind: ServiceType, state: str, district: str | None, code: int | None, name: str
) -> Service:
    return Service(
        kind, name, state, district, code, "", (), "", "https://example.gov.in", date(2026, 11, 25)
    )


DIRECTORY = [
    service(ServiceType.ONE_STOP_CENTRE, "Odisha", "Ganjam", 354, "OSC Ganjam"),
    service(ServiceType.ONE_STOP_CENTRE, "Odisha", "Puri", 369, "OSC Puri"),
    service(ServiceType.ONE_STOP_CENTRE, "Odisha", None, None, "State women's cell, Odisha"),
    service(ServiceType.DLSA, "Kerala", "Ernakulam", 555, "DLSA Ernakulam"),
]
HELPLINES = load_helplines()


def look(kind: str, district: str | int | None = None, state: str | None = None) -> ServiceLookup:
    return lookup_services(kind, district, state, services=DIRECTORY, helplines=HELPLINES)


def test_district_match_comes_first() -> None:
    found = look("one_stop_centre", district="Ganjam", state="Odisha")
    assert found.level == "district"
    assert [s.name for s in found.services] == ["OSC Ganjam"]
    assert [h.id for h in found.helplines] == ["women_helpline", "emergency"]


def test_district_by_lgd_code() -> None:
    assert [s.name for s in look("one_stop_centre", district=369).services] == ["OSC Puri"]


def test_falls_back_to_the_state_with_state_wide_offices_first() -> None:
    found = look("one_stop_centre", district="Khordha", state="Odisha")
    assert found.level == "state"
    assert found.services[0].name == "State women's cell, Odisha"
    assert {s.name for s in found.services} == {
        "State women's cell, Odisha",
        "OSC Ganjam",
        "OSC Puri",
    }


def test_state_is_worked_out_from_the_district_when_not_given() -> None:
    found = look("one_stop_centre", district="Khordha")
    assert found.level == "state" and found.services[0].state == "Odisha"
    assert look("one_stop_centre", district=362).level == "state"  # Khordha by LGD code


def test_falls_back_to_national_helplines() -> None:
    found = look("one_stop_centre", district="Murshidabad", state="West Bengal")
    assert found.level == "national" and found.services == ()
    assert [h.number for h in found.helplines] == ["181", "112"]


@pytest.mark.parametrize(
    ("kind", "numbers"),
    [
        ("dmhp", ["14416"]),
        ("dlsa", ["15100"]),
        ("ahtu", ["112", "181", "1098"]),
        ("labour_office", ["15100"]),
        ("shelter", ["181", "1098", "112"]),
    ],
)
def test_every_kind_of_office_has_a_national_fallback(kind: str, numbers: list[str]) -> None:
    found = look(kind, state="Bihar")
    assert found.level == "national"
    assert [h.number for h in found.helplines] == numbers


def test_a_district_shared_by_two_states_does_not_guess_the_state() -> None:
    assert look("dlsa", district="Aurangabad").level == "national"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        look("hospital")


def test_lookup_on_the_projects_directory() -> None:
    found = lookup_services("dlsa", district="Ernakulam", state="Kerala")
    assert found.level == "district"
    assert found.services[0].name.startswith("Kerala State Legal Services Authority")
