"""Sans-I/O codec for the Apache Ignite thin-client binary protocol (1.0.0-1.7.0)."""
