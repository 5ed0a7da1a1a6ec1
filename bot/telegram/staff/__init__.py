"""The staff side of the desk: topics and cards in the staff group, relays, staff actions."""
