# pkg-config files find their prefix from their own location (${pcfiledir})
# so they stay right after `cmake --install --prefix DIR` or a moved tree.
# Used by cio-layer.pc.in (every layer's .pc, the core's too); needs GNUInstallDirs first.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(CIO_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(CIO_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(CIO_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH CIO_PC_UP "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
  string(REGEX REPLACE "/$" "" CIO_PC_UP "${CIO_PC_UP}")
  set(CIO_PC_PREFIX "\${pcfiledir}/${CIO_PC_UP}")
  set(CIO_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(CIO_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()

# cio_add_layer(NAME SOURCES <files> [DESCRIPTION <text>]
#               [PUBLIC_LIBS <targets>] [PRIVATE_LIBS <targets>]
#               [INTERFACE_OPTIONS <compile options>]
#               [PC_REQUIRES <pkg-config names>] [PC_REQUIRES_PRIVATE <names>]
#               [PC_LIBS <-lfoo ...>] [PC_CFLAGS <flags>])
#
# One library per layer (the core too), built once as objects and linked
# two ways:
#   cio_<name>_static (libcio-<name>.a) and cio_<name> (libcio-<name>.so),
# exported as cio::<name> / cio::<name>_static, with a cio-<name>.pc file.
# INTERFACE_OPTIONS are compile options every consumer of the layer gets
# (CMake targets); PC_CFLAGS the same for pkg-config users.
function(cio_add_layer name)
  cmake_parse_arguments(L "" "DESCRIPTION"
    "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS;INTERFACE_OPTIONS;PC_REQUIRES;PC_REQUIRES_PRIVATE;PC_LIBS;PC_CFLAGS"
    ${ARGN})
  add_library(cio_${name}_obj OBJECT ${L_SOURCES})
  target_include_directories(cio_${name}_obj PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_include_directories(cio_${name}_obj PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(cio_${name}_obj PRIVATE cio_options ${L_PRIVATE_LIBS} ${L_PUBLIC_LIBS})
  target_compile_options(cio_${name}_obj PRIVATE -fvisibility=hidden)
  add_library(cio_${name}_static STATIC $<TARGET_OBJECTS:cio_${name}_obj>)
  add_library(cio_${name} SHARED $<TARGET_OBJECTS:cio_${name}_obj>)
  foreach(t cio_${name}_static cio_${name})
    set_target_properties(${t} PROPERTIES OUTPUT_NAME cio-${name})
    target_include_directories(${t} PUBLIC
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    if(L_INTERFACE_OPTIONS)
      target_compile_options(${t} INTERFACE ${L_INTERFACE_OPTIONS})
    endif()
    if(CIO_SAN_FLAGS)
      target_link_options(${t} PUBLIC ${CIO_SAN_FLAGS})
    endif()
  endforeach()
  target_link_libraries(cio_${name}_static PUBLIC ${L_PUBLIC_LIBS} ${L_PRIVATE_LIBS})
  target_link_libraries(cio_${name} PUBLIC ${L_PUBLIC_LIBS} PRIVATE ${L_PRIVATE_LIBS})
  # $ORIGIN: an installed layer finds the layers below it beside itself.
  set_target_properties(cio_${name} PROPERTIES VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR} EXPORT_NAME ${name} INSTALL_RPATH "$ORIGIN")
  set_target_properties(cio_${name}_static PROPERTIES EXPORT_NAME ${name}_static)
  add_library(cio::${name} ALIAS cio_${name})
  add_library(cio::${name}_static ALIAS cio_${name}_static)
  install(TARGETS cio_${name} cio_${name}_static EXPORT cioTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  if(L_DESCRIPTION)
    set(CIO_PC_DESCRIPTION "${L_DESCRIPTION}")
  else()
    set(CIO_PC_DESCRIPTION "cio ${name} layer")
  endif()
  string(REPLACE ";" " " CIO_PC_REQUIRES "${L_PC_REQUIRES}")
  string(REPLACE ";" " " CIO_PC_REQUIRES_PRIVATE "${L_PC_REQUIRES_PRIVATE}")
  string(REPLACE ";" " " CIO_PC_LIBS "${L_PC_LIBS}")
  string(REPLACE ";" " " CIO_PC_CFLAGS "${L_PC_CFLAGS}")
  if(CIO_PC_CFLAGS)
    string(PREPEND CIO_PC_CFLAGS " ")
  endif()
  set(CIO_PC_NAME ${name})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/cio-layer.pc.in
    ${PROJECT_BINARY_DIR}/cio-${name}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/cio-${name}.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()
