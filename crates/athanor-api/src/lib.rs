//! athanor-api (being written).
