"""Admin for the office calendar, deadline rules and clocks."""
