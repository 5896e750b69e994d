"""Parameters: the validated schema of a run (units, bounds, descriptions) and the
literature defaults with their sources.

The lowest layer: everything else may import it; it imports nothing of blinasim.
"""
