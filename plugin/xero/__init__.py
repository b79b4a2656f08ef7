"""Everything the app says to Xero: OAuth and id_token (``auth``), tokens (``tokens``), the
Accounting API client (``client``), the Amazon Business supplier contact (``contact``) and
organisations after consent (``organisations``)."""
