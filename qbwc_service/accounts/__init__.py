"""Who may do what: company connections, staff users, API keys, secrets. No Flask here."""
