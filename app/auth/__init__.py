"""Staff users, roles, login/logout and personal API tokens."""
