# Loopback end-to-end tests: dtp-storescu / dtp-storescp (and stock DCMTK)
# talking TLS on 127.0.0.0/8. Included from tests/CMakeLists.txt.

# 1. Every profile, RSA and ECDSA certificates: objects arrive intact.
foreach(profile IN ITEMS bcp195 bcp195-nd bcp195-ex cryptrec bcp195-8996 bcp195-8996-mod)
  foreach(keytype IN ITEMS rsa ec)
    dtp_e2e(e2e.transfer.${profile}.${keytype} transfer.sh
      LABELS loopback TIMEOUT 60 ARGS ${profile} ${keytype})
  endforeach()
endforeach()

# 2. Every SCU profile against every SCP profile: who connects, who refuses why.
foreach(keytype IN ITEMS rsa ec)
  dtp_e2e(e2e.matrix.${keytype} matrix.sh LABELS loopback TIMEOUT 120 ARGS ${keytype})
endforeach()

# 3. Two profiles on the same port, different addresses (N4, K4).
dtp_e2e(e2e.bind bind.sh LABELS loopback TIMEOUT 60)

# 4. Silent and half-open connections do not block others (handshake timeout).
dtp_e2e(e2e.stall stall.sh LABELS loopback TIMEOUT 60)

# 5. Interop with stock DCMTK 3.6.7 storescu/storescp (+py / +pz).
foreach(profile IN ITEMS bcp195-nd bcp195-ex bcp195-8996 bcp195-8996-mod)
  dtp_e2e(e2e.stock-dcmtk.${profile} stock_dcmtk.sh
    LABELS "loopback;interop" TIMEOUT 60 ARGS ${profile})
endforeach()

# 6. TLS session resumption across separate dtp-storescu runs (--session-file).
foreach(profile IN ITEMS bcp195-nd bcp195-ex)
  dtp_e2e(e2e.session-file.${profile} session_file.sh LABELS loopback TIMEOUT 60 ARGS ${profile})
endforeach()

# 7. The GnuTLS backend (--tls-backend gnutls): every profile, RSA and EC,
#    GnuTLS on both sides and against the OpenSSL backend both ways.
if(DTP_WITH_GNUTLS)
  foreach(profile IN ITEMS bcp195 bcp195-nd bcp195-ex cryptrec bcp195-8996 bcp195-8996-mod)
    foreach(keytype IN ITEMS rsa ec)
      foreach(pair IN ITEMS gnutls-gnutls openssl-gnutls gnutls-openssl)
        string(REPLACE "-" ";" sides ${pair})
        dtp_e2e(e2e.backend-gnutls.${profile}.${keytype}.${pair} backend_gnutls.sh
          LABELS loopback TIMEOUT 60 ARGS ${profile} ${keytype} ${sides})
      endforeach()
    endforeach()
  endforeach()
endif()
