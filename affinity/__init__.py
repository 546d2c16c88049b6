"""Pure placement math: Java hashCode, partitions, rendezvous assignment, partition maps."""
