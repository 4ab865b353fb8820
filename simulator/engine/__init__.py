"""The SimPy world: a scenario in, an event log out (scripted journeys and stochastic populations).

Imports :mod:`simulator.scenario` and :mod:`simulator.log`. ``simulate`` (``simulate``/``iter_chunks``),
``journeys`` (scripted journeys: one SimPy process per journey for all its copies), ``population`` (demand
and the shared plan), ``adserver`` (budgets, pacing, site load), ``visits`` (the inside of each visit in
numpy batches), ``workers`` (blocks of visitors in worker processes, same bytes as one process) and
``budget`` (what must be held in memory, refused up front when it cannot fit).
"""
