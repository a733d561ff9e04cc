//! Hand-written SVG line charts for the benchmark curves.
