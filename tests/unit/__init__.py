"""Unit tests: pure code, no database, network, Redis or clock."""
