"""From the files consultants receive to one row per customer: reading, cleaning logs, features."""
