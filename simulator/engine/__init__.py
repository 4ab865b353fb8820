"""The SimPy world: a scenario in, an event log out (scripted journeys and stochastic populations).

Imports :mod:`simulator.scenario` and :mod:`simulator.log`. ``simulate`` (``simulate``/``iter_chunks``,
scripted journeys as SimPy processes), ``population`` (demand and the shared plan), ``adserver`` (budgets,
pacing, site load), ``visits`` (the inside of each visit in numpy batches) and ``workers`` (blocks of
visitors in worker processes, same bytes as one process).
"""
