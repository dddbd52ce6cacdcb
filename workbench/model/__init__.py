"""What a portfolio is: the estimate grammar, the distributions behind it, initiatives and correlations."""
