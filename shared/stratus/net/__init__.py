"""Network policy shared by everything that connects out (see `egress`)."""
