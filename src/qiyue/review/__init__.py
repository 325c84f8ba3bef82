"""Contract review: key-term extraction (and, later, compliance rules)."""
