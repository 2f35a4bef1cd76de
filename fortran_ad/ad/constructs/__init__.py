"""Derivatives of language constructs beyond scalar assignments: derived types, pointers,
allocation, MATMUL, MPI calls, aliased arguments, array-valued functions, interfaces."""
