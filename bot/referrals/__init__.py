"""Referrals tracked to completion, follow-up that respects consent, records that travel.

- :mod:`bot.referrals.models` — Referral, ReferralEvent, FollowUp, RecordConsent;
- :mod:`bot.referrals.lifecycle` — states, kinds, follow-up timing (pure);
- :mod:`bot.referrals.service` — create and move referrals, record consent;
- :mod:`bot.referrals.slip` — the slip in the person's language;
- :mod:`bot.referrals.followups` — check-ins: schedule, claim, send, read the reply;
- :mod:`bot.referrals.fhir` — a person's records as a FHIR R4 Bundle, with consent;
- :mod:`bot.referrals.indicators` — anonymised counts by state and month.
"""

from __future__ import annotations

import bot.referrals.models  # noqa: F401  (registers the tables on Base.metadata)
