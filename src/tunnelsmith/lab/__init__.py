"""tunnelsmith."""
