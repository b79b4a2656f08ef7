"""Amazon Business: payload models (``models``), and the API clients and auth that use them."""
