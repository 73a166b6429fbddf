# Link the libraries Debian also ships as static archives from those archives: gRPC,
# protobuf, Abseil, c-ares, RE2, yaml-cpp, snappy and libdeflate. A shared library is
# mapped whole: its symbol tables and relocations are read at start-up, its code is
# faulted in 64 KiB at a time (the kernel's fault-around), and gRPC alone kept 4.9 MiB
# of its pages resident in the sidecar benchmark. From their archives the linker takes
# only the objects we use (and --gc-sections their used sections), and nothing is
# relocated at start-up: the mixed-load RSS went from 20.2 to 17.2 MiB (README,
# "Performance"). The rest stay shared: OpenSSL, zlib and zstd are also libcurl's,
# which has no usable archive (its dependencies have none), and spdlog, fmt,
# prometheus-cpp and simdjson have no archive in Debian.
#
# Each imported target of those packages that names a `lib<x>.so[.N]` (or `-l<x>`) whose
# `lib<x>.a` sits beside it is made to name the archive instead. Their CMake configs list
# every dependency (gRPC's and Abseil's link them PUBLIC), so the link line stays whole.
# -DOUTRIGGER_STATIC_DEPS=OFF links them all shared, as before.
option(OUTRIGGER_STATIC_DEPS "Link gRPC, protobuf, Abseil, c-ares, RE2, yaml-cpp, snappy and libdeflate statically" ON)

set(_outrigger_static_targets "^(gRPC|protobuf|absl|c-ares|re2|Snappy)::|^yaml-cpp$|^PkgConfig::(RE2|LIBDEFLATE|CARES)$")

# The archive beside a shared library (a path or -l<name>), or "" if there is none.
function(_outrigger_archive_of item out)
  set(archive "")
  if(item MATCHES "^(.*)/lib([^/]+)\\.so(\\.[0-9.]+)?$")
    set(archive "${CMAKE_MATCH_1}/lib${CMAKE_MATCH_2}.a")
  elseif(item MATCHES "^-l([^/]+)$")
    set(name "${CMAKE_MATCH_1}")
    if(NOT name MATCHES "^(dl|m|rt|pthread|atomic|ssl|crypto|z|zstd)$")
      find_library(_outrigger_a_${name} NAMES lib${name}.a)
      set(archive "${_outrigger_a_${name}}")
    endif()
  endif()
  if(archive AND EXISTS "${archive}")
    set(${out} "${archive}" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

function(outrigger_use_static_archives)
  if(NOT OUTRIGGER_STATIC_DEPS)
    return()
  endif()
  get_directory_property(targets IMPORTED_TARGETS)
  set(converted 0)
  foreach(t IN LISTS targets)
    if(NOT t MATCHES "${_outrigger_static_targets}")
      continue()
    endif()
    get_target_property(configs ${t} IMPORTED_CONFIGURATIONS)
    set(props INTERFACE_LINK_LIBRARIES)
    get_target_property(type ${t} TYPE)
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
      list(APPEND props IMPORTED_LOCATION)
      foreach(c IN LISTS configs)
        list(APPEND props IMPORTED_LOCATION_${c})
      endforeach()
    endif()
    foreach(p IN LISTS props)
      get_target_property(value ${t} ${p})
      if(NOT value)
        continue()
      endif()
      set(new "")
      foreach(item IN LISTS value)
        _outrigger_archive_of("${item}" archive)
        if(archive)
          list(APPEND new "${archive}")
          math(EXPR converted "${converted} + 1")
        else()
          list(APPEND new "${item}")
        endif()
      endforeach()
      set_property(TARGET ${t} PROPERTY ${p} "${new}")
    endforeach()
  endforeach()
  message(STATUS "Static archives: ${converted} library references of gRPC, protobuf, Abseil, c-ares, RE2, yaml-cpp, snappy, libdeflate")
endfunction()

# The binaries drop the sections nothing references.
if(OUTRIGGER_STATIC_DEPS AND NOT OUTRIGGER_FUZZ)
  add_link_options(-Wl,--gc-sections)
endif()
