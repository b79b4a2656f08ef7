"""The tables kept out of ``plugin.models`` only because that module is at its size limit:
``card_payment`` (``plugin.work.card_payment_model``) and ``settlement_step``
(``plugin.work.settlement_table``). ``plugin.models`` imports this module at its end, so
importing it still registers every table.
"""

from plugin.work import card_payment_model as card_payment_model
from plugin.work import settlement_table as settlement_table
