# Version of the FortranAD CMake package: the version of the fortran-ad Python package around it
# (read from fortran_ad/version.py, so there is one place to bump). Any newer version is
# compatible with an older request.
file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/../../version.py" _fad_version_line
  REGEX "^__version__ *= *\"[^\"]+\"")
string(REGEX REPLACE "^__version__ *= *\"([^\"]+)\".*" "\\1" PACKAGE_VERSION
  "${_fad_version_line}")
unset(_fad_version_line)
set(PACKAGE_VERSION_COMPATIBLE TRUE)
set(PACKAGE_VERSION_EXACT FALSE)
if(PACKAGE_FIND_VERSION)
  if(PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION)
    set(PACKAGE_VERSION_COMPATIBLE FALSE)
  elseif(PACKAGE_VERSION VERSION_EQUAL PACKAGE_FIND_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
