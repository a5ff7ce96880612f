"""One module per signal library; nothing else in the package monkeypatches."""
