"""Tests of the query layer's planner: equivalence on the W3C suites, property-based, per rule."""
