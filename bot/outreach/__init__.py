"""Outreach: subscriptions (the opt-in book), broadcasts, the outbound queue and its worker."""
