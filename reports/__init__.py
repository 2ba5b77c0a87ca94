"""Report rendering: the recette sheet and its evidence."""
