"""Locust load tests: whole citizen journeys, load shapes, SLOs and the capacity planner."""
