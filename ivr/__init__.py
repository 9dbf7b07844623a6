"""Voice IVR over Twilio: TwiML builders and the gateway router."""
