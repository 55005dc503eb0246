"""The web form: every live procedure as an accessible page per question at
``/p/<municipality slug>/<procedure key>/``, run by the same engine, runtime and
submission service as the LINE chat (channel ``web``). Works without JavaScript."""
