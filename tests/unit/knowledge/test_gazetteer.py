"""Finding the state or district a message names, in any script or spelling."""

from __future__ import annotations

import csv

import pytest

from bot.knowledge.gazetteer import GAZETTEER_CSV, LANGUAGE_COLUMNS, find_places, resolve_place

LGD_CSV = GAZETTEER_CSV.parents[3] / "shared" / "data" / "india-districts-lgd.csv"
MIGRATION_STATES = {
    "West Bengal",
    "Odisha",
    "Assam",
    "Bihar",
    "Jharkhand",
    "Uttar Pradesh",
    "Maharashtra",
    "Gujarat",
    "Punjab",
    "Tamil Nadu",
    "Telangana",
    "Andhra Pradesh",
    "Karnataka",
    "Kerala",
    "Delhi",
}
ROWS = list(csv.DictReader(GAZETTEER_CSV.open(encoding="utf-8")))


def place(text: str) -> tuple[str, str | None]:
    found = resolve_place(text)
    assert found is not None, f"nothing found in {text!r}"
    return found.state, found.district


# --- the brief's own cases, in several scripts -------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Murshidabad",
        "মুর্শিদাবাদ",  # Bengali
        "murshidabad",
        "murshidabd",  # a slip of the thumb
        "मुर्शिदाबाद",  # Devanagari
        "MURSHIDABAD district",
        "ami murshidabad theke",
        "মুর্শিদাবাদে থাকি",  # case ending joined to the name
    ],
)
def test_murshidabad_in_every_spelling(text: str) -> None:
    assert place(text) == ("West Bengal", "Murshidabad")
    assert resolve_place(text).lgd_code == 319  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bombay", ("Maharashtra", "Mumbai")),
        ("मुंबई में काम करता हूँ", ("Maharashtra", "Mumbai")),
        ("மும்பை", ("Maharashtra", "Mumbai")),
        ("Calcutta", ("West Bengal", "Kolkata")),
        ("কলকাতায় কাজ করি", ("West Bengal", "Kolkata")),
        ("Gurgaon", ("Haryana", "Gurugram")),
        ("main gurgaon me kaam karta hu", ("Haryana", "Gurugram")),
        ("Madras", ("Tamil Nadu", "Chennai")),
        ("சென்னையில் வேலை", ("Tamil Nadu", "Chennai")),
        ("Bangalore", ("Karnataka", "Bengaluru Urban")),
        ("ಬೆಂಗಳೂರಿನಲ್ಲಿ ಕೆಲಸ", ("Karnataka", "Bengaluru Urban")),
        ("Trivandrum", ("Kerala", "Thiruvananthapuram")),
        ("എറണാകുളം", ("Kerala", "Ernakulam")),
        ("perumbavoor", ("Kerala", "Ernakulam")),
        ("ମୁଁ ଗଞ୍ଜାମରୁ ଆସିଛି", ("Odisha", "Ganjam")),
        ("ଭୁବନେଶ୍ୱର", ("Odisha", "Khordha")),
        ("গুৱাহাটীত আছো", ("Assam", "Kamrup Metro")),
        ("ধুবুৰী", ("Assam", "Dhubri")),
        ("ਲੁਧਿਆਣਾ", ("Punjab", "Ludhiana")),
        ("સુરતમાં કામ કરું છું", ("Gujarat", "Surat")),
        ("హైదరాబాద్‌లో ఉన్నాను", ("Telangana", "Hyderabad")),
        ("Vizag", ("Andhra Pradesh", "Visakhapatanam")),
        ("Allahabad", ("Uttar Pradesh", "Prayagraj")),
        ("Noida sector 62", ("Uttar Pradesh", "Gautam Buddha Nagar")),
        ("मोतिहारी", ("Bihar", "Purbi Champaran")),
        ("Jamshedpur", ("Jharkhand", "East Singhbum")),
        ("North 24 Parganas", ("West Bengal", "24 Paraganas North")),
        ("উত্তর ২৪ পরগনা", ("West Bengal", "24 Paraganas North")),
        ("I live in south delhi", ("Delhi", "South")),
        ("Chhatrapati Sambhajinagar", ("Maharashtra", "Aurangabad")),
    ],
)
def test_aliases_and_scripts(text: str, expected: tuple[str, str]) -> None:
    assert place(text) == expected


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("Kerala", "Kerala"),
        ("കേരളം", "Kerala"),
        ("কেরালা", "Kerala"),
        ("Kerela", "Kerala"),
        ("tamil nadu", "Tamil Nadu"),
        ("தமிழ்நாடு", "Tamil Nadu"),
        ("Orissa", "Odisha"),
        ("ଓଡ଼ିଶା", "Odisha"),
        ("पश्चिम बंगाल", "West Bengal"),
        ("দিল্লিতে আছি", "Delhi"),
    ],
)
def test_states_in_any_script(text: str, state: str) -> None:
    assert place(text) == (state, None)


# --- ambiguity --------------------------------------------------------------------------


def test_a_name_shared_by_two_states_is_flagged() -> None:
    found = resolve_place("Aurangabad")
    assert found is not None and found.ambiguous
    states = {found.state, *(alt.state for alt in found.alternatives)}
    assert states == {"Bihar", "Maharashtra"}


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("Aurangabad, Bihar", "Bihar"),
        ("औरंगाबाद महाराष्ट्र", "Maharashtra"),
        ("Hamirpur Himachal Pradesh", "Himachal Pradesh"),
        ("Bijapur Karnataka", "Karnataka"),
    ],
)
def test_naming_the_state_settles_it(text: str, state: str) -> None:
    found = resolve_place(text)
    assert found is not None and not found.ambiguous
    assert found.state == state


def test_an_old_name_shared_with_another_district_is_ambiguous() -> None:
    found = resolve_place("Bijapur")  # Chhattisgarh's district, and Vijayapura's old name
    assert found is not None and found.ambiguous


# --- everyday words are not places ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "main ghar gaya tha",  # "gaya" went
        "mujhe police thane le gaye",  # "thane" police stations
        "basti mein rehta hoon",  # "basti" neighbourhood
        "মন খুব খারাপ",  # Bengali "mon" mind, Mon district
        "મારી મજૂરી રોકી રાખી છે",  # "majuri" wages, one letter from Majuli
        "ਬਹੁਤ ਬਹੁਤ ਧੰਨਵਾਦ",  # "thank you", one letter from Dhanbad
        "ई-श्रमवर नोंदणी कशी करायची",  # Marathi "kashi" how
        "ಮೂರು ತಿಂಗಳಿಂದ ಸಂಬಳ ಬಂದಿಲ್ಲ",  # "sambala" salary
        "ମୋ ଡାଟା ଡିଲିଟ କରିଦିଅ",  # "delete"
        "ટેલી માનસનો નંબર શું છે",  # Tele-MANAS
        "আমি বাংলা বলি",  # the language, not the state
        "ਪੰਜਾਬੀ ਵਿੱਚ ਗੱਲ ਕਰੋ",  # the language, not the state
        "jay shree krishna",
        "hello, I need help with my ration card",
        "",
        "/greet",
    ],
)
def test_ordinary_words_are_not_places(text: str) -> None:
    assert find_places(text) == []


@pytest.mark.parametrize(
    ("text", "district"), [("Gaya", "Gaya"), ("Gaya district", "Gaya"), ("ठाणे", "Thane")]
)
def test_a_weak_name_counts_when_it_is_the_whole_answer(text: str, district: str) -> None:
    assert place(text)[1] == district


def test_a_weak_name_counts_beside_its_state() -> None:
    assert place("thane maharashtra me hu") == ("Maharashtra", "Thane")


# --- several places, one message --------------------------------------------------------


def test_district_of_origin_and_state_of_work_both_found() -> None:
    found = find_places("I am from Murshidabad, now working in Kerala")
    assert [(p.state, p.district) for p in found] == [
        ("West Bengal", "Murshidabad"),
        ("Kerala", None),
    ]


def test_a_longer_name_wins_over_the_shorter_inside_it() -> None:
    assert place("kamrup metro") == ("Assam", "Kamrup Metro")
    assert place("Kamrup") == ("Assam", "Kamrup")
    assert place("New Delhi") == ("Delhi", "New Delhi")
    assert place("nagar kurnool") == ("Telangana", "Nagarkurnool")


def test_scores_rank_exact_above_near() -> None:
    exact, near = resolve_place("murshidabad"), resolve_place("murshidabd")
    assert exact is not None and near is not None
    assert exact.score == 1.0 > near.score >= 0.8


# --- the CSV ----------------------------------------------------------------------------


def test_every_lgd_district_is_in_the_gazetteer_with_its_codes() -> None:
    if not LGD_CSV.exists():
        # The source data sits in ../shared beside the checkout (as CI lays it out).
        pytest.skip(f"the LGD source file is not beside this checkout: {LGD_CSV}")
    lgd = list(csv.DictReader(LGD_CSV.open(encoding="utf-8")))
    ours = {int(r["district_lgd_code"]): r for r in ROWS if r["level"] == "district"}
    assert len(ours) == len(lgd) == 763
    for row in lgd:
        mine = ours[int(row["District Code"])]
        assert int(mine["state_lgd_code"]) == int(row["State Code"])
        assert mine["state"].upper() == row["State Name"].upper()
        assert mine["district"].upper() == row["District Name"].upper()


def test_every_state_has_a_native_script_name() -> None:
    states = [r for r in ROWS if r["level"] == "state"]
    assert len(states) == 36
    assert all(r["name_hi"] for r in states)
    assert all(r["name_source"] == "sahay" for r in states)


def test_migration_states_districts_have_native_names_marked_for_review() -> None:
    districts = [r for r in ROWS if r["level"] == "district" and r["state"] in MIGRATION_STATES]
    assert len(districts) == 470
    lacking = [
        r["district"] for r in districts if not any(r[f"name_{c}"] for c in LANGUAGE_COLUMNS)
    ]
    assert lacking == []
    assert all(r["name_source"] == "sahay" for r in districts)
    # In Devanagari too, for Hindi readers (Marathi's Devanagari name serves Maharashtra).
    assert all(r["name_hi"] or r["name_mr"] for r in districts)


def test_names_are_in_title_case() -> None:
    for row in ROWS:
        for name in (row["state"], row["district"]):
            # Initials stay capitals ("NTR", "Y.S.R."); nothing else is all capitals.
            assert not name.isupper() or name in {"NTR", "Y.S.R."}, name


def test_readme_keeps_the_licence_attribution() -> None:
    readme = (GAZETTEER_CSV.parent / "README.md").read_text(encoding="utf-8")
    assert (
        "Source: Local Government Directory, Ministry of Panchayati Raj, Government of India,\n"
        "via planemad/india-local-government-directory"
    ) in readme
    assert "GODL-India" in readme
