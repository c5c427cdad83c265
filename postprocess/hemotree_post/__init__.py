"""hemotree-post: post-processing of hemotree output files (HDF5, layout in the README).

Subcommands (hemotree_post.cli): waveforms, pvloop, watershed, compare, report, validation.
Every tool reads SI from the file and shows clinical units (mmHg, mL/s, mL)."""
__version__ = "0.1.0"
