"""Services: the rules (permissions, validation, audit, privacy) that the command and the GUI both call."""
