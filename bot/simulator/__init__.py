"""A local web chat that goes through the same routing path as WhatsApp."""
