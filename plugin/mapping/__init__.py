"""Mapping Amazon Business data to Xero accounts and tax rates: store, checks, suggestions,
the chart, the mapping page and the JSON files."""
