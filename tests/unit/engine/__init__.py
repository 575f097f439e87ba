"""Engine tests: hand-built tiny orgs."""
