"""Compilers to SQL: features from raw logs and scorers, exact in every dialect."""
