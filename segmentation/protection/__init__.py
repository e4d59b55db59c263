"""Protecting the people in the data: PII, re-identification risk, generalisation, DP and fairness."""
