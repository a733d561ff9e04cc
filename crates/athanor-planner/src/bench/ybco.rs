//! The YBCO replay.
