# `cmake --install` puts the headers, the library and an exported asyncio-config.cmake in the
# prefix, so that an app can do find_package(asyncio CONFIG) + target_link_libraries(app asyncio::asyncio).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS asyncio EXPORT asyncio-targets FILE_SET HEADERS)
install(EXPORT asyncio-targets NAMESPACE asyncio:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/asyncio)
configure_package_config_file(cmake/asyncio-config.cmake.in
  ${PROJECT_BINARY_DIR}/asyncio-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/asyncio)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/asyncio-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/asyncio-config.cmake ${PROJECT_BINARY_DIR}/asyncio-config-version.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/asyncio)
