"""A person's rights over their data (India's DPDP Act 2023): erasure everywhere the
helpline keeps it, export on request, retention limits, and key rotation."""
