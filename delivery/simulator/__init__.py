"""The LINE simulator: a local stand-in for the LINE platform.

It is "LINE", a separate system: its models never point at the product's models, and
the product talks to it only over HTTP (the real line-bot-sdk against the emulated
Messaging API, and signed webhooks from the simulator to the product). It is mounted
only where ``settings.SIMULATOR_ENABLED`` is true, never in production: it is then an
installed app of its own (label ``simulator``, its own migrations), and production code
reaches it only through ``delivery.simulator_adapter``.
"""
