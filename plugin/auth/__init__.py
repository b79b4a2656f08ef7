"""Who is signed in and what they may reach: users, organisation access, OAuth state, tokens."""
