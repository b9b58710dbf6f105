# find_package(timemory CONFIG): timemory's C API for native extensions, header-only.
#
#   find_package(timemory CONFIG REQUIRED)   # -DCMAKE_PREFIX_PATH=$(python -m timemory --cmake-dir)
#   target_link_libraries(myext PRIVATE timemory::headers)
#
# timemory::headers is an INTERFACE target: the include directory of timemory/capi.h and
# timemory/capi.hpp (and Python::Module when the project found Python with it). Nothing is
# linked: the extension reaches the running timemory through a capsule at import time.
get_filename_component(_timemory_package_dir "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

set(timemory_INCLUDE_DIR "${_timemory_package_dir}/include")
set(timemory_INCLUDE_DIRS "${timemory_INCLUDE_DIR}")

if(NOT EXISTS "${timemory_INCLUDE_DIR}/timemory/capi.h")
  set(timemory_FOUND FALSE)
  set(timemory_NOT_FOUND_MESSAGE "timemory/capi.h is not in ${timemory_INCLUDE_DIR}: a broken installation")
  return()
endif()

if(NOT TARGET timemory::headers)
  add_library(timemory::headers INTERFACE IMPORTED)
  set_target_properties(timemory::headers PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${timemory_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "$<TARGET_NAME_IF_EXISTS:Python::Module>")
endif()

unset(_timemory_package_dir)
