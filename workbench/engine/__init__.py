"""Sampling and scoring: sample designs, the Monte Carlo engine, rankings, results, scenario matrices."""
