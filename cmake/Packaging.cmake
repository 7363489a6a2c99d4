# rsexec_VERSION_amd64.deb with `cpack -G DEB` (scripts/package.sh): the files dist/ installs, its
# dependencies computed by dpkg-shlibdeps from the binaries, /etc/rsexecd.conf a conffile, and the
# maintainer scripts that make the rsexecd user and /srv/ftp.
# cpack (and `make install`) package what is built, without building "all" first: the package
# test runs cpack beside other tests that are running the binaries it would otherwise relink.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rsexec)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "rsexec")
set(CPACK_PACKAGE_CONTACT "rsexec maintainers <rsexec@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "server-to-server FTP file transfer (RFC 438 LSTN/SOCK, FXP) and FTP server")
set(CPACK_PACKAGE_DESCRIPTION "rsexec copies files between two FTP servers directly from one to the other, \
pairing them with RFC 438's LSTN/SOCK, PASV/PORT or EPSV/EPRT: single files, job files with a journal \
and retries, mirrored trees, and jobs shared by many workers through PostgreSQL. rsexecd is a small, \
strict FTP server (RFC 959, 2428, 3659, 4217) that also speaks LSTN/SOCK.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# adduser: the postinst's fallback where systemd-sysusers is missing.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
# gzip: an xz pass over the binaries would cost the package test most of its time.
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/dist/debian/conffiles
  ${PROJECT_SOURCE_DIR}/dist/debian/postinst
  ${PROJECT_SOURCE_DIR}/dist/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
