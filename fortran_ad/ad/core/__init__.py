"""The core transforms: tangent and adjoint of one routine, the derivative rules, naming, the
tape statements, the analyses the reverse sweep asks (needed, to-be-recorded, liveness), globals
and COMMON blocks, and the emission of the derivative files."""
