"""The playground pages: sine (a drawn stroke → curve), letters, and sentiment (with its live-typing hook)."""
