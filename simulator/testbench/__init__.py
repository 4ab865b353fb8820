"""The sessionizer test bench: workloads, adapters, conformance with minimal counterexamples, benchmarks.

``sessionlab workload`` writes seeded event logs full of the cases sessionizers get wrong
(:mod:`.workload`, :mod:`.profiles`); ``sessionlab conform`` checks any sessionizer (:mod:`.adapters`)
against a session definition, classifies each difference (:mod:`.classify`) and shrinks it to a minimal
counterexample (:mod:`.shrink`, :mod:`.conform`); ``sessionlab bench`` measures sessionizers against
built-in baselines (:mod:`.bench`, :mod:`.baselines`).
"""
