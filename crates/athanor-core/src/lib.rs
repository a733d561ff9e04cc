//! athanor-core (being written).
