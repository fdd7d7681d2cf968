"""warpforge: a GPU software stack in miniature."""
