"""Testing with o2o: the pytest plugin (`plugin`, whose fixtures live in `fixtures`).

Tests speak to the service through the one client, `o2o.client`.
"""
