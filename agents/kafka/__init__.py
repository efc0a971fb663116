"""Kafka plumbing: the local broker, clients, the producer and consumer, acknowledged
delivery (the outbox), the topic graph and connection security."""
