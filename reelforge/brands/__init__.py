"""Brand kits: a client's logo, colours, font and call to action, reused across jobs."""
