"""What other apps hear about residents (procedures imports none of them).

``resident_attributes_changed`` is sent after the transaction that changed a resident's
attributes has committed, with ``resident`` (a ``Resident``). Delivery listens to keep
each resident's rich menu in step with their segments; receivers enqueue work, they do
not call the network.
"""

from django.dispatch import Signal

resident_attributes_changed = Signal()
