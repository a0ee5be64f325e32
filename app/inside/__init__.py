"""The Inside page: the unrolled figure (heatmaps, cursor frames, equations), the data it draws, and the
examples it replays."""
