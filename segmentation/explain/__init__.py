"""Saying what the segments are: profiles, names, rules and links to outcomes."""
