"""The Dynamics page: the state space of a trained network — principal components, trajectories, slow points and
the linearised dynamics around them."""
