"""Surfaces: thin adapters that turn a request into ``engine.handle`` and the reply into the
surface's format (TwiML, JSON). SMS/WhatsApp, status callbacks, web chat, the Twilio
signature check, health and security headers. Add a surface here plus one registration
line in the app factory (bot/__init__.py)."""
