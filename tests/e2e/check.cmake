# dtp-check end to end (label loopback): against dtp-storescp under each
# profile, RSA and EC certificates, on both backends (the 6 x 6 verdict
# table: check_self.sh), and against targets that are not a TLS DICOM node
# (check_bad_input.sh). Included from tests/CMakeLists.txt.
foreach(profile IN ITEMS bcp195 bcp195-nd bcp195-ex cryptrec bcp195-8996 bcp195-8996-mod)
  foreach(keytype IN ITEMS rsa ec)
    dtp_e2e(check.self.${profile}.${keytype} check_self.sh LABELS loopback TIMEOUT 180 ARGS ${profile} ${keytype})
  endforeach()
  if(DTP_WITH_GNUTLS)
    dtp_e2e(check.self.${profile}.rsa.gnutls check_self.sh LABELS loopback TIMEOUT 180 ARGS ${profile} rsa gnutls)
  endif()
endforeach()
dtp_e2e(check.bad-input check_bad_input.sh LABELS loopback TIMEOUT 120)
# The JSON against docs/dtp-check.schema.json: skipped without a validator.
dtp_e2e(check.json-schema check_self.sh LABELS loopback TIMEOUT 180 ARGS bcp195-8996 rsa)
set_property(TEST check.json-schema APPEND PROPERTY ENVIRONMENT DTP_CHECK_SCHEMA=1)
