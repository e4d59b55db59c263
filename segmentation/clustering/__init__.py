"""The clustering stage: the space, the algorithms, the sweep, validation, stability and selection."""
