"""What the rest of ``delivery`` hears about disaster mode.

The switch (``delivery.disaster.services``) sends ``disaster_mode_changed`` after the
transaction that changed the mode has committed, with keyword arguments
``municipality`` (a ``Municipality``), ``active`` (bool) and ``actor`` (the ``User`` who
switched, or None). Receivers write intent rows or enqueue tasks; they never call LINE
themselves. Rich menus listen to swap every resident's menu and to restore it.
"""

from django.dispatch import Signal

disaster_mode_changed = Signal()
