"""Stream workers: reassembly, normalization, exactly-once core enqueue, dead letters, acks."""
