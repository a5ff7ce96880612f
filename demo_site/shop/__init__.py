"""A small shop: audit log and side effects, custom signals, async, blinker, transactions, bulk
operations and a receiver with an N+1 query."""
