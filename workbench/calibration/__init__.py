"""Learning from actuals: how good past estimates were, and correcting this quarter's ranges for it."""
