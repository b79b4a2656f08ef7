"""The ledger's public API: every Amazon Business transaction of an organisation, and its way
into Xero, exactly once. Callers say ``from plugin import ledger; ledger.post_ready(...)``.

An entry is unique per (organisation, Amazon ``transactionId``). Its states (design §3):

- ``fetched``: recorded from Amazon, not yet evaluated (``record_page``);
- ``held``: cannot post yet, with the reason (``evaluate``; again on a mapping or chart change);
- ``ready``: can post now;
- ``posting``: claimed by a batch sent to Xero, outcome not yet recorded (``post_ready``,
  ``recover``);
- ``posted``: in Xero, with its document id;
- ``failed``: Xero refused it (evaluated again on a mapping change or ``retry``);
- ``by_hand``: the user posted it in Xero themselves (``mark_posted_by_hand``): final.

The functions take a session and plain objects (a Xero client, the mapping, the chart); jobs
call them. Nothing here talks HTTP except through the client passed in.
"""

from plugin.ledger.batches import XERO_REJECTED as XERO_REJECTED
from plugin.ledger.batches import ClaimLost as ClaimLost
from plugin.ledger.batches import XeroWriter as XeroWriter
from plugin.ledger.by_hand import ALREADY_IN_XERO as ALREADY_IN_XERO
from plugin.ledger.by_hand import BY_HAND as BY_HAND
from plugin.ledger.by_hand import clear_duplicate as clear_duplicate
from plugin.ledger.by_hand import confirm_duplicate as confirm_duplicate
from plugin.ledger.by_hand import mark_posted_by_hand as mark_posted_by_hand
from plugin.ledger.by_hand import unmark_posted_by_hand as unmark_posted_by_hand
from plugin.ledger.counts import counts_by_state as counts_by_state
from plugin.ledger.counts import fold_counts as fold_counts
from plugin.ledger.evaluation import EVALUATE_CHUNK as EVALUATE_CHUNK
from plugin.ledger.evaluation import EvaluateCounts as EvaluateCounts
from plugin.ledger.evaluation import context_for as context_for
from plugin.ledger.evaluation import evaluate as evaluate
from plugin.ledger.evaluation import retry as retry
from plugin.ledger.post import BATCH_SIZE as BATCH_SIZE
from plugin.ledger.post import PostCounts as PostCounts
from plugin.ledger.post import log as log
from plugin.ledger.post import post_ready as post_ready
from plugin.ledger.record import FINAL_IN_XERO as FINAL_IN_XERO
from plugin.ledger.record import PARSE_ERROR as PARSE_ERROR
from plugin.ledger.record import RecordCounts as RecordCounts
from plugin.ledger.record import parsed as parsed
from plugin.ledger.record import payload_hash as payload_hash
from plugin.ledger.record import payload_of as payload_of
from plugin.ledger.record import record_page as record_page
from plugin.ledger.recovery import next_lookup_at as next_lookup_at
from plugin.ledger.recovery import recover as recover
