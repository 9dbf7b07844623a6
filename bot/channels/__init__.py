"""Inbound channels: Twilio WhatsApp (and later voice) webhooks."""
