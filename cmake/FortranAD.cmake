# Forwards to the copy shipped in the Python package (one copy of the CMake code):
# fortran_ad/data/cmake/FortranAD.cmake. `include(<checkout>/cmake/FortranAD.cmake)` and
# `-DFortranAD_DIR=<checkout>/cmake` both work from a checkout.
include("${CMAKE_CURRENT_LIST_DIR}/../fortran_ad/data/cmake/FortranAD.cmake")
