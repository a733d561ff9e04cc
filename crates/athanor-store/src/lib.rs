//! athanor-store (being written).
