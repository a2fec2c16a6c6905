"""The flow packs Chatgate ships, as data files (read by ``adapters.packs.files``, never here)."""
