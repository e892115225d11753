"""MPI: a catalogue spread over the ranks of an mpi4py communicator.

``timing`` (wall time per stage) < ``collective`` (failure agreement,
reductions) < ``load`` (row slices per rank) < ``decompose`` (RCB owners,
rmax buffers, owner keys) < ``graph`` (the distributed graph and the MPI
count entry) < ``multipoles``, ``twopoint``. mpi4py is imported lazily.
"""
