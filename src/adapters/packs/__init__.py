"""Flow packs read from files: an operator's file, or one Chatgate ships."""
