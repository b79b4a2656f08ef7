"""What the tests share, written once: fakes, factories and the constants of the mocked services.

Fixtures that use them live in ``tests/conftest.py``; a test module imports these names from here.
"""
