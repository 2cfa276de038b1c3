# pkg-config files find their prefix from their own location (${pcfiledir})
# so they stay right after `cmake --install --prefix DIR` or a moved tree.
# Used by cio-core.pc.in and cio-layer.pc.in; needs GNUInstallDirs first.
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

# cio_add_layer(NAME SOURCES <files> [PUBLIC_LIBS <targets>] [PRIVATE_LIBS <targets>]
#               [PC_REQUIRES <pkg-config names>] [PC_REQUIRES_PRIVATE <names>]
#               [PC_LIBS <-lfoo ...>])
#
# One library per layer, built once as objects and linked two ways:
#   cio_<name>_static (libcio-<name>.a) and cio_<name> (libcio-<name>.so),
# exported as cio::<name> / cio::<name>_static, with a cio-<name>.pc file.
function(cio_add_layer name)
  cmake_parse_arguments(L "" ""
    "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS;PC_REQUIRES;PC_REQUIRES_PRIVATE;PC_LIBS" ${ARGN})
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
  string(REPLACE ";" " " CIO_PC_REQUIRES "${L_PC_REQUIRES}")
  string(REPLACE ";" " " CIO_PC_REQUIRES_PRIVATE "${L_PC_REQUIRES_PRIVATE}")
  string(REPLACE ";" " " CIO_PC_LIBS "${L_PC_LIBS}")
  set(CIO_PC_NAME ${name})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/cio-layer.pc.in
    ${PROJECT_BINARY_DIR}/cio-${name}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/cio-${name}.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()
