"""Forms only validate and convert what was typed; the rules stay in the services."""
