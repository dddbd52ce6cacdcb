"""Which set to fund: constraints, the exact MILP optimizer and frontier, plans and their baselines."""
