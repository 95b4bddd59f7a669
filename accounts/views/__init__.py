"""HTML views of accounts: home, organisations, members, project settings, API keys, audit log."""
