"""What the tests share: servers on loopback, scripted models, fixtures and sample data.

Test modules import helpers from here and never from one another; fixtures stay in the test
module that uses them (or in conftest.py and the plugins it lists, when several do).
"""
