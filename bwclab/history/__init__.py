"""The lab's history of certification runs: a store (SQLite by default, PostgreSQL for a lab), night-to-night
drift against a baseline, and a trend page."""
