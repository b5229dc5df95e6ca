"""Portal and admin accounts: users, roles, sessions, CSRF and the append-only audit log."""
