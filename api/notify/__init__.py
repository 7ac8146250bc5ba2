"""Notifications: topics, subscriptions, the durable outbox of deliveries and their channels."""
