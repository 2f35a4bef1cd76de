# FortranAD.cmake: run fortran-ad at build time and compile the derivative code it writes.
#
#   find_package(FortranAD REQUIRED)   # CMAKE_PREFIX_PATH=$(fortran-ad --cmake-dir)
#   # or: include(<fortran-ad checkout>/cmake/FortranAD.cmake)
#
#   add_library(model heat_params.f90 heat_cost.f90 heat_model.f90)
#   fortran_ad_add_derivatives(model_ad PRIMAL model
#     HEAD heat_run WRT u0 kappa OF cost MODE reverse)
#   target_link_libraries(my_program PRIVATE model_ad)
#
# fortran_ad_add_derivatives(<name>
#     [PRIMAL <target>]              library (STATIC/SHARED/OBJECT) holding the primal code
#     [SOURCES <file>...]            sources in compile order (default: PRIMAL's Fortran sources)
#     [HEAD <routine>] WRT <name>... [OF <name>...]
#     [MODE reverse|forward]         default reverse (adjoint, <stem>_b.f90)
#     [MEMORY_LIMIT <bytes>]         tape limit at run time, e.g. 4G
#     [DEFINES <NAME[=VALUE]>...]    passed to fortran-ad as -D (needs its preprocessor, issue #8)
#     [FLAGS <arg>...]               any other fortran-ad arguments (--size, --fixed-form, ...)
#     [OUTPUT_DIR <dir>]             default ${CMAKE_CURRENT_BINARY_DIR}/<name>_fad
#     [LIBRARY_TYPE STATIC|SHARED|OBJECT]   default STATIC
#     [OUTPUT_VARIABLE <var>]        receives the generated files
#     [PYTHON <module>])             also build the Python module <module> (f90wrap)
#
# creates
#   <name>           a library of the derivative code: links PRIMAL (or compiles SOURCES itself
#                    when there is no PRIMAL) and, in reverse mode, FortranAD::runtime (the tape
#                    module, one copy per project); consumers see the derivative modules;
#   <name>_generate  a custom target that only writes the derivative sources;
#   <name>_python    with PYTHON: a custom target (part of ALL) that runs
#                    `fortran-ad ... --python <module> -o <OUTPUT_DIR>/python`, which compiles the
#                    model and its derivatives with gfortran -O2 -fPIC and builds
#                    <module>.py, _<module>*.so and <module>.fad.json there (import <module>, or
#                    fortran_ad.load(dir)); the folder is the target's FORTRAN_AD_PYTHON_DIR
#                    property, and FORTRAN_AD_PYTHON is the Python that runs fortran-ad.
#
# How regeneration is decided
#   * The options are written to <OUTPUT_DIR>/fortran-ad.args at configure time, and only when
#     they differ from the file's content: changing WRT/OF/HEAD/MODE/... touches it, re-running
#     cmake with the same options does not.
#   * The generate step (OUTPUT <OUTPUT_DIR>/fortran-ad.stamp, DEPENDS sources + args file +
#     the fortran-ad executable) runs fortran-ad into a staging folder and copies a file into
#     OUTPUT_DIR only when its content changed, so an edit to one source recompiles only the
#     derivative files whose text changed (fortran-ad analyses all sources together, so every
#     edit re-runs it, but unchanged outputs keep their time stamps).
#   * The generated files are the OUTPUT of a second, cheap step that depends on the stamp and
#     only recreates missing files (Make compares time stamps again after it, Ninja restats).
#   * Which files exist is asked of `fortran-ad deps` at configure time. If an edit changes that
#     set (a source gains or loses differentiated routines), the build stops with a message and
#     CMake re-configures itself on the next build.
#
# Needs CMake >= 3.18 and a Fortran compiler enabled in the project.
include_guard(GLOBAL)

# ---------------------------------------------------------------------------------------------
# Build-time step, run as `cmake -DFAD_STEP=generate|ensure -DFAD_DIR=<OUTPUT_DIR> -P <this>`.
# ---------------------------------------------------------------------------------------------
function(_fortran_ad_generate dir)
  file(STRINGS "${dir}/fortran-ad.args" args)
  file(STRINGS "${dir}/fortran-ad.outputs" expected)
  list(POP_FRONT args exe)
  set(stage "${dir}/.stage")
  file(REMOVE_RECURSE "${stage}")
  execute_process(COMMAND "${exe}" ${args} -o "${stage}" RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "fortran-ad failed (exit status ${rc}); its messages are above")
  endif()
  file(GLOB made RELATIVE "${stage}" "${stage}/*")
  list(SORT made)
  list(SORT expected)
  if(NOT made STREQUAL expected)
    # A configure dependency: the next build re-runs cmake, which asks `fortran-ad deps` again.
    list(JOIN made "\n" text)
    file(WRITE "${dir}/fortran-ad.outputs" "${text}\n")
    message(FATAL_ERROR
      "fortran-ad now writes [${made}] instead of [${expected}] (an edit changed which "
      "sources hold differentiated routines). CMake re-configures on the next build: build "
      "again.")
  endif()
  # Stamp first, so that files updated below are newer than it (Make then skips the "ensure"
  # step on the next build); a failed copy removes it again so the next build retries.
  file(TOUCH "${dir}/fortran-ad.stamp")
  foreach(f IN LISTS made)
    execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${stage}/${f}" "${dir}/${f}"
      RESULT_VARIABLE differs OUTPUT_QUIET ERROR_QUIET)
    if(differs)
      execute_process(COMMAND "${CMAKE_COMMAND}" -E copy "${stage}/${f}" "${dir}/${f}"
        RESULT_VARIABLE rc)
      if(NOT rc EQUAL 0)
        file(REMOVE "${dir}/fortran-ad.stamp")
        message(FATAL_ERROR "cannot copy ${stage}/${f} to ${dir}")
      endif()
      message(STATUS "fortran-ad: updated ${dir}/${f}")
    endif()
  endforeach()
  file(REMOVE_RECURSE "${stage}")
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  if(FAD_STEP STREQUAL "generate")
    _fortran_ad_generate("${FAD_DIR}")
  elseif(FAD_STEP STREQUAL "python")
    # fortran-ad <args> --python <name> -o <dir>: generate, compile, wrap (f90wrap), link.
    file(STRINGS "${FAD_DIR}/fortran-ad.args" args)
    list(POP_FRONT args exe)
    execute_process(COMMAND "${exe}" ${args} --python "${FAD_PYTHON}" -o "${FAD_PYTHON_DIR}"
      RESULT_VARIABLE rc OUTPUT_QUIET)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "fortran-ad --python failed (exit status ${rc}); its messages are above")
    endif()
  elseif(FAD_STEP STREQUAL "ensure")
    file(STRINGS "${FAD_DIR}/fortran-ad.outputs" expected)
    foreach(f IN LISTS expected)
      if(NOT EXISTS "${FAD_DIR}/${f}")
        _fortran_ad_generate("${FAD_DIR}")
        break()
      endif()
    endforeach()
  else()
    message(FATAL_ERROR "FortranAD.cmake: unknown FAD_STEP '${FAD_STEP}'")
  endif()
  return()
endif()

# ---------------------------------------------------------------------------------------------
# Project side.
# ---------------------------------------------------------------------------------------------
if(CMAKE_VERSION VERSION_LESS 3.18)
  message(FATAL_ERROR "FortranAD.cmake needs CMake 3.18 or newer (this is ${CMAKE_VERSION})")
endif()
# Functions keep the policies in force where they are defined: use 3.18's whatever the project's
# cmake_minimum_required says.
cmake_policy(PUSH)
cmake_policy(VERSION 3.18...3.31)

set_property(GLOBAL PROPERTY FORTRAN_AD_CMAKE_FILE "${CMAKE_CURRENT_LIST_FILE}")
get_filename_component(_fortran_ad_package "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
set_property(GLOBAL PROPERTY FORTRAN_AD_RUNTIME_SOURCE
  "${_fortran_ad_package}/runtime/fad_tape.f90")

# The fortran-ad next to this package comes first (site-packages/fortran_ad/data/cmake ->
# <venv>/bin), then an active virtual environment, then PATH. Override with
# -DFORTRAN_AD_EXECUTABLE=/path/to/fortran-ad.
find_program(FORTRAN_AD_EXECUTABLE NAMES fortran-ad
  HINTS "${_fortran_ad_package}/../../../.." ENV VIRTUAL_ENV
  PATH_SUFFIXES bin Scripts
  DOC "the fortran-ad command")
unset(_fortran_ad_package)

function(_fortran_ad_write_if_changed path content)
  if(EXISTS "${path}")
    file(READ "${path}" old)
    if(old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE "${path}" "${content}")
endfunction()

# FortranAD::runtime: the tape module, compiled once per project (two reverse-mode libraries in
# one program must not both define module fad_tape). Sets <var> to the target, or to "" when
# the runtime source is not next to this file (then each library compiles its own copy).
function(_fortran_ad_runtime var)
  get_property(tape GLOBAL PROPERTY FORTRAN_AD_RUNTIME_SOURCE)
  if(NOT EXISTS "${tape}")
    set(${var} "" PARENT_SCOPE)
    return()
  endif()
  if(NOT TARGET fortran_ad_runtime)
    set(moddir "${CMAKE_BINARY_DIR}/fortran_ad_runtime/mod")
    add_library(fortran_ad_runtime STATIC "${tape}")
    set_target_properties(fortran_ad_runtime PROPERTIES
      Fortran_MODULE_DIRECTORY "${moddir}" POSITION_INDEPENDENT_CODE ON)
    target_include_directories(fortran_ad_runtime PUBLIC "$<BUILD_INTERFACE:${moddir}>")
    add_library(FortranAD::runtime ALIAS fortran_ad_runtime)
  endif()
  set(${var} FortranAD::runtime PARENT_SCOPE)
endfunction()

function(fortran_ad_add_derivatives name)
  cmake_parse_arguments(PARSE_ARGV 1 FAD ""
    "PRIMAL;HEAD;MODE;MEMORY_LIMIT;OUTPUT_DIR;LIBRARY_TYPE;OUTPUT_VARIABLE;PYTHON"
    "SOURCES;WRT;OF;DEFINES;FLAGS")
  set(where "fortran_ad_add_derivatives(${name})")
  if(FAD_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${where}: unknown arguments: ${FAD_UNPARSED_ARGUMENTS}")
  endif()
  if(FAD_PYTHON AND NOT FAD_PYTHON MATCHES "^[A-Za-z][A-Za-z0-9_]*$")
    message(FATAL_ERROR "${where}: PYTHON '${FAD_PYTHON}' is not a Python module name")
  endif()
  if(NOT FAD_WRT)
    message(FATAL_ERROR "${where}: WRT is required (the independent variables)")
  endif()
  if(NOT FORTRAN_AD_EXECUTABLE)
    message(FATAL_ERROR "${where}: the fortran-ad command was not found; pip install "
      "fortran-ad, activate its environment, or set -DFORTRAN_AD_EXECUTABLE=<path>")
  endif()
  if(FAD_PRIMAL AND NOT TARGET "${FAD_PRIMAL}")
    message(FATAL_ERROR "${where}: PRIMAL '${FAD_PRIMAL}' is not a target")
  endif()
  if(NOT FAD_MODE)
    set(FAD_MODE reverse)
  endif()
  if(NOT FAD_LIBRARY_TYPE)
    set(FAD_LIBRARY_TYPE STATIC)
  endif()
  if(NOT FAD_OUTPUT_DIR)
    set(FAD_OUTPUT_DIR "${CMAKE_CURRENT_BINARY_DIR}/${name}_fad")
  endif()
  get_filename_component(out "${FAD_OUTPUT_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  file(MAKE_DIRECTORY "${out}")

  # Sources, absolute, in the order given (modules before their users).
  set(sources)
  if(FAD_SOURCES)
    foreach(src IN LISTS FAD_SOURCES)
      get_filename_component(abs "${src}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
      list(APPEND sources "${abs}")
    endforeach()
  elseif(FAD_PRIMAL)
    get_target_property(primal_sources ${FAD_PRIMAL} SOURCES)
    get_target_property(primal_dir ${FAD_PRIMAL} SOURCE_DIR)
    foreach(src IN LISTS primal_sources)
      set(fortran "\\.([fF]|[fF][oO][rR]|[fF]77|[fF][tT][nN]|[fF]9[05]|[fF]0[38])$")
      if(src MATCHES "^\\$<" OR NOT src MATCHES "${fortran}")
        continue()
      endif()
      get_filename_component(abs "${src}" ABSOLUTE BASE_DIR "${primal_dir}")
      list(APPEND sources "${abs}")
    endforeach()
  endif()
  if(NOT sources)
    message(FATAL_ERROR "${where}: no Fortran SOURCES (give SOURCES, or a PRIMAL that has them)")
  endif()

  # The fortran-ad argument list; the args file holds it, one argument per line.
  list(JOIN FAD_WRT "," wrt)
  set(args ${sources} --wrt "${wrt}" --mode "${FAD_MODE}")
  if(FAD_OF)
    list(JOIN FAD_OF "," of)
    list(APPEND args --of "${of}")
  endif()
  if(FAD_HEAD)
    list(APPEND args --head "${FAD_HEAD}")
  endif()
  if(FAD_MEMORY_LIMIT)
    list(APPEND args --memory-limit "${FAD_MEMORY_LIMIT}")
  endif()
  foreach(def IN LISTS FAD_DEFINES)
    list(APPEND args "-D${def}")
  endforeach()
  list(APPEND args ${FAD_FLAGS})
  list(JOIN args "\n" args_text)
  _fortran_ad_write_if_changed("${out}/fortran-ad.args" "${FORTRAN_AD_EXECUTABLE}\n${args_text}\n")

  # Which files will be written: ask the tool (fast; writes nothing).
  execute_process(COMMAND "${FORTRAN_AD_EXECUTABLE}" deps ${args} -o "${out}"
    OUTPUT_VARIABLE listing ERROR_VARIABLE errors RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    if(FAD_DEFINES AND errors MATCHES "unrecognized arguments: -D")
      set(errors "${errors}\nDEFINES needs a fortran-ad with preprocessor support (-D, issue #8).")
    endif()
    message(FATAL_ERROR "${where}: `fortran-ad deps` failed (exit status ${rc}):\n${errors}")
  endif()
  string(STRIP "${listing}" listing)
  string(REPLACE "\n" ";" outputs "${listing}")
  set(names)
  foreach(f IN LISTS outputs)
    get_filename_component(n "${f}" NAME)
    list(APPEND names "${n}")
  endforeach()
  list(JOIN names "\n" names_text)
  _fortran_ad_write_if_changed("${out}/fortran-ad.outputs" "${names_text}\n")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${out}/fortran-ad.outputs")

  get_property(script GLOBAL PROPERTY FORTRAN_AD_CMAKE_FILE)
  set(stamp "${out}/fortran-ad.stamp")
  add_custom_command(OUTPUT "${stamp}"
    COMMAND "${CMAKE_COMMAND}" -DFAD_STEP=generate "-DFAD_DIR=${out}" -P "${script}"
    DEPENDS ${sources} "${out}/fortran-ad.args" "${FORTRAN_AD_EXECUTABLE}" "${script}"
    COMMENT "fortran-ad: ${FAD_MODE} derivatives for ${name}"
    VERBATIM)
  add_custom_command(OUTPUT ${outputs}
    COMMAND "${CMAKE_COMMAND}" -DFAD_STEP=ensure "-DFAD_DIR=${out}" -P "${script}"
    DEPENDS "${stamp}"
    VERBATIM)
  add_custom_target(${name}_generate DEPENDS ${outputs})

  # The library: derivative files (+ the primal sources when there is no PRIMAL target).
  set(compiled ${outputs})
  set(runtime "")
  if("${out}/fad_tape.f90" IN_LIST outputs)
    _fortran_ad_runtime(runtime)
    if(runtime)
      list(FILTER compiled EXCLUDE REGEX "/fad_tape\\.f90$")
    endif()
  endif()
  if(NOT FAD_PRIMAL)
    list(PREPEND compiled ${sources})
  endif()
  add_library(${name} ${FAD_LIBRARY_TYPE} ${compiled})
  add_dependencies(${name} ${name}_generate)
  set_target_properties(${name} PROPERTIES
    Fortran_MODULE_DIRECTORY "${out}/mod" LINKER_LANGUAGE Fortran)
  target_include_directories(${name} PUBLIC "$<BUILD_INTERFACE:${out}/mod>")
  if(FAD_PRIMAL)
    set(p ${FAD_PRIMAL})
    set(moddir "$<TARGET_PROPERTY:${p},Fortran_MODULE_DIRECTORY>")
    set(bindir "$<TARGET_PROPERTY:${p},BINARY_DIR>")
    target_include_directories(${name} PUBLIC
      "$<BUILD_INTERFACE:$<IF:$<BOOL:${moddir}>,${moddir},${bindir}>>")
    target_link_libraries(${name} PUBLIC ${p})
  endif()
  if(runtime)
    target_link_libraries(${name} PUBLIC ${runtime})
  endif()
  if(FAD_OUTPUT_VARIABLE)
    set(${FAD_OUTPUT_VARIABLE} ${outputs} PARENT_SCOPE)
  endif()
  if(FAD_PYTHON)
    _fortran_ad_add_python(${name} "${out}" "${FAD_PYTHON}" "${sources}")
  endif()
endfunction()

# The Python interpreter fortran-ad runs under (the one with f90wrap and fortran_ad): the
# #! line of the fortran-ad script, else a Python 3 found by CMake. -DFORTRAN_AD_PYTHON=...
# overrides it.
function(_fortran_ad_find_python)
  if(FORTRAN_AD_PYTHON)
    return()
  endif()
  file(STRINGS "${FORTRAN_AD_EXECUTABLE}" first LIMIT_COUNT 1)
  set(python "")
  if(first MATCHES "^#!([^ ]*python[0-9.]*)$")
    set(python "${CMAKE_MATCH_1}")  # (CMAKE_MATCH_1 is set only once the if() has run)
  endif()
  if(NOT EXISTS "${python}")
    find_package(Python3 COMPONENTS Interpreter REQUIRED)
    set(python "${Python3_EXECUTABLE}")
  endif()
  set(FORTRAN_AD_PYTHON "${python}" CACHE FILEPATH "the Python that runs fortran-ad")
endfunction()

# <name>_python: `fortran-ad <args> --python <module> -o <out>/python` at build time, re-run
# when a source or an option changes (the manifest <module>.fad.json is the step's output).
function(_fortran_ad_add_python name out module sources)
  _fortran_ad_find_python()
  get_property(script GLOBAL PROPERTY FORTRAN_AD_CMAKE_FILE)
  set(pydir "${out}/python")
  set(manifest "${pydir}/${module}.fad.json")
  add_custom_command(OUTPUT "${manifest}"
    COMMAND "${CMAKE_COMMAND}" -DFAD_STEP=python "-DFAD_DIR=${out}" "-DFAD_PYTHON=${module}"
      "-DFAD_PYTHON_DIR=${pydir}" -P "${script}"
    DEPENDS ${sources} "${out}/fortran-ad.args" "${FORTRAN_AD_EXECUTABLE}" "${script}"
    COMMENT "fortran-ad: Python module ${module} for ${name}"
    VERBATIM)
  add_custom_target(${name}_python ALL DEPENDS "${manifest}")
  set_target_properties(${name}_python PROPERTIES FORTRAN_AD_PYTHON_DIR "${pydir}")
endfunction()

cmake_policy(POP)
