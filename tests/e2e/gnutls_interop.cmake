# The GnuTLS interop tests (interop_gnutls.sh) again with our apps on the
# GnuTLS backend (the shims in ${DTP_GNUTLS_BIN}, DTP_TLS_BACKEND=gnutls):
# each Camellia-GCM suite the profile lists (E3, K3, M21) is negotiated with
# gnutls-cli / gnutls-serv offering only that suite, in both roles; where the
# profile does not list it, it is refused as on the OpenSSL backend.
# Rows go to interop-results/gnutls-backend/, which interop.report does not
# read (docs/interop.md is the OpenSSL backend's). Included from
# tests/CMakeLists.txt after interop.cmake and gnutls.cmake.

if(DTP_WITH_GNUTLS)
  if(NOT COMMAND dtp_gnutls_e2e OR NOT DTP_INTEROP_PROFILES)
    message(FATAL_ERROR "gnutls_interop.cmake: include it after interop.cmake and gnutls.cmake")
  endif()
  foreach(profile IN LISTS DTP_INTEROP_PROFILES)
    dtp_gnutls_e2e(interop.gnutls.${profile} interop_gnutls.sh LABELS interop TIMEOUT 90 ARGS ${profile})
    set_property(TEST gnutls.interop.gnutls.${profile} APPEND PROPERTY ENVIRONMENT DTP_TLS_BACKEND=gnutls)
  endforeach()
endif()
