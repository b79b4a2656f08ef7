"""Everything the app says to Xero: OAuth and id_token (``auth``), tokens (``tokens``), the
Accounting API client (``client``) and what it reads, typed (``models``, money ``Decimal``; dates
through ``dates``), exact JSON (``wire``), answers as exceptions (``error_mapping``, ``errors``),
the Amazon Business supplier contact (``contact``) and organisations after consent
(``organisations``)."""
