"""Running the bot as a service: health and metrics endpoint, structured logs, backups."""
