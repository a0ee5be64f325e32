"""The Tagging page: part-of-speech tags for typed or test sentences, test-set scores, the backward direction
switched off, and the character network inside a word."""
