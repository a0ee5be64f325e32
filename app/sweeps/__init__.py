"""The Sweeps page: define a grid, run it in the background, watch its runs, compare the results."""
