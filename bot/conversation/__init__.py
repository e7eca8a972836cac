"""The conversation: the engine that decides what to say to one message."""
