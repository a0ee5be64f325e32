"""The Runs page: the table of saved runs, their curves compared, and the files behind downloads."""
