"""The tables kept out of ``plugin.models`` only because that module is at its size limit:
``card_payment`` (``plugin.work.card_payment_model``), ``settlement_step``
(``plugin.work.settlement_table``), ``correction`` (``plugin.ledger.correction_model``),
``ledger_count`` (``plugin.ledger.count_table``), ``entry_review``
(``plugin.ledger.review_model``), ``legal_entity`` (``plugin.amazon.legal_entity_table``) and
``posting_run`` (``plugin.ledger.posting_run_model``). ``plugin.models`` imports this module at its
end, so importing it still registers every table.
"""

from plugin.amazon import legal_entity_table as legal_entity_table
from plugin.ledger import correction_model as correction_model
from plugin.ledger import count_table as count_table
from plugin.ledger import posting_run_model as posting_run_model
from plugin.ledger import review_model as review_model
from plugin.work import card_payment_model as card_payment_model
from plugin.work import settlement_table as settlement_table
