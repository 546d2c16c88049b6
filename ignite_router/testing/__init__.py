"""A local multi-node cluster that speaks the Ignite thin-client protocol (for tests and demos)."""
