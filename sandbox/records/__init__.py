"""What was received (journal, HAR) and what would have been sent (deliveries)."""
