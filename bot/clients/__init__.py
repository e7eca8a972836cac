"""Clients of outside services: the Redis store, the Rasa NLU client and process,
identity hashing of phone numbers and web tokens."""
