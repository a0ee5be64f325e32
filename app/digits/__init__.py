"""The Digits page: a drawn or picked digit read row by row — what the model sees, when it knows, and its
hidden state and gates over the rows (the Inside figure)."""
