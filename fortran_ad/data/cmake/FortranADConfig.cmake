# find_package(FortranAD) config file, shipped inside the fortran-ad Python package.
#   cmake -DCMAKE_PREFIX_PATH="$(fortran-ad --cmake-dir)" ...   (or -DFortranAD_DIR=...)
# Provides fortran_ad_add_derivatives() (see FortranAD.cmake next to this file) and the
# FORTRAN_AD_EXECUTABLE cache variable.
include("${CMAKE_CURRENT_LIST_DIR}/FortranAD.cmake")
set(FortranAD_EXECUTABLE "${FORTRAN_AD_EXECUTABLE}")
if(NOT FORTRAN_AD_EXECUTABLE)
  set(FortranAD_FOUND FALSE)
  set(FortranAD_NOT_FOUND_MESSAGE
    "the fortran-ad command was not found; activate the environment it is installed in, or set "
    "-DFORTRAN_AD_EXECUTABLE=<path>")
endif()
