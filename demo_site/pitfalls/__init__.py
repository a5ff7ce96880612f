"""What goes wrong with signals, each case bounded so the server keeps running."""
