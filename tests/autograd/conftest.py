"""The engine suite runs on the engine this process imported, chosen as a user chooses it.

The plain engine (autograd/value.py, autograd/backward.py) is the specification a learner
reads; the compiled one (autograd/codegen.py) is its accelerator. As CPython tests a pure-Python
module and its C accelerator (PEP 399), the whole suite runs once per engine, each in its own
process: ``make test`` runs ``pytest`` (compiled, the default) and then ``AUTOGRAD_PLAIN=1
pytest`` (plain). Nothing here switches engines inside a process; the tests that compare the two
bit for bit (test_engines.py) run each in a fresh process of its own.
"""
