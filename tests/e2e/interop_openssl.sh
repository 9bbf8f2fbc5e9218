#!/bin/bash
# interop_openssl.sh ROLE PROFILE -- OpenSSL's command line tools against our
# apps, one protocol version or one cipher suite at a time.
#
#   ROLE scp  openssl s_client -> dtp-storescp --profile PROFILE
#             (one dtp-storescp with an RSA and one with an ECDSA certificate
#             serve every probe; the SCP's log says what happened)
#   ROLE scu  dtp-storescu --profile PROFILE -> openssl s_server
#             (one s_server per probe, -naccept 1; probes run in small batches
#             because a completed handshake then waits 1 s for the
#             A-ASSOCIATE-AC that s_server never sends: exit 7)
#
# Probes (the peer offers or accepts exactly this):
#   - each version TLS 1.0 / 1.1 / 1.2 / 1.3 with every suite OpenSSL has, RSA
#     and ECDSA certificates;
#   - each TLS 1.2 suite of any profile (B.13's CCM, CCM_8 and ChaCha20
#     suites included), plus suites outside the profile (static RSA, CBC,
#     SHA-1/SHA-256 MACs, DHE -- none under B.13 (Q7) --, Camellia-CBC,
#     ARIA (M7), CCM with static RSA or DHE), one at a time, with the
#     certificate type the suite needs;
#   - each TLS 1.3 suite: all five (OpenSSL offers AES-CCM and AES-CCM_8 only
#     when -ciphersuites names them; B.13 lists them, M18/Q12);
#   - TLS 1.0/1.1 with suites other than the AES profile suite;
#   - groups, by their IANA names as --list-profiles prints them (handed to
#     openssl -groups in its own spelling, ix_ossl_groups): small EC groups
#     (secp192r1, secp224r1) and secp256k1 with an ECDHE suite; x25519 alone
#     with an ECDHE suite and at TLS 1.3 (not a CRYPTREC group, nor a B.13
#     one: 255 bits < 256, M17/Q2), x25519 + secp256r1 at TLS 1.3 (CRYPTREC
#     and B.13: HelloRetryRequest to secp256r1); x448 and ffdhe2048 alone at
#     TLS 1.3.
#     OpenSSL does not offer curves below 256 bits at TLS 1.3, and a server
#     only picks a group the client offered: our SCU, which offers only the
#     profile's groups, therefore meets a small-curve server as a
#     handshake_failure alert (209), never as a small key (208).
#
# Expected outcome, from the profile table (dtp-storescu --list-profiles):
#   version not in the profile          -> refused, 201 VERSION_REFUSED
#   no offered suite/group in the profile at that version, for that
#   certificate                         -> refused: SCP logs 202
#                                          NO_SHARED_SUITE; SCU reports the
#                                          server's handshake_failure alert as
#                                          209 PEER_ALERT
#   otherwise                           -> connected, with a suite of the
#                                          profile, flagged DOWNGRADED (B6)
#                                          exactly below TLS 1.2 or with a
#                                          fallback suite
# (One exception to the first line: our TLS 1.2-only SCU (bcp195-ex) sends
# no supported_versions extension, so a TLS 1.0/1.1 server picks its own
# version and fails on our suites: handshake_failure, 209.)
# SCU role, connected: s_server never answers the A-ASSOCIATE-RQ, so the SCU
# must end on its 1 s ACSE timeout (-ta 1, exit 7) -- also when TLS 1.3
# post-handshake messages (session tickets, KeyUpdate) arrive meanwhile.
# TLS_FALLBACK_SCSV is in old_versions.sh, small DH groups in weak_dh.sh.
#
# Every probe runs; all mismatches are listed at the end. Result rows go to
# $DTP_BUILD_DIR/interop-results/interop.openssl.ROLE.PROFILE.tsv.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"
. "$HERE/interop_lib.sh"

[ $# -eq 2 ] || { echo "usage: $0 scp|scu PROFILE" >&2; exit 1; }
ROLE=$1 PROFILE=$2
case $ROLE in scp | scu) ;; *) echo "$0: ROLE must be scp or scu" >&2; exit 1 ;; esac

ix_results "interop.openssl.$ROLE.$PROFILE"
dtp_init "interop-openssl-$ROLE-$PROFILE"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd openssl timeout setsid
PKI=$DTP_PKI
FILE=$DTP_DATA/small/small-1.dcm
[ -f "$FILE" ] || dtp_fail "fixture $FILE missing"

ix_load_profiles
ix_known_profile "$PROFILE"
ix_load_openssl_names
ix_peer openssl "$(openssl version)"

# ------------------------------------------------------------ the probes --
# TLS 1.2 suites to probe besides those of the tables: mostly suites no
# profile lists (C3/E4, R17/R20, M5/M7/M8/M26: must never be negotiated);
# the few that some profile lists (B.13's ChaCha20 and CCM) are probed once.
NOT_LISTED12=(
    TLS_RSA_WITH_AES_128_CBC_SHA256          # AES128-SHA256
    TLS_RSA_WITH_AES_128_GCM_SHA256          # static RSA, no forward secrecy
    TLS_RSA_WITH_AES_256_CBC_SHA
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA       # ECDHE-RSA-AES128-SHA
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
    TLS_DHE_RSA_WITH_AES_128_CBC_SHA
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
    TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256
    TLS_RSA_WITH_CAMELLIA_128_CBC_SHA
    TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256
    TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM
    TLS_DHE_RSA_WITH_AES_128_CCM
    TLS_DHE_RSA_WITH_AES_256_CCM_8
    TLS_RSA_WITH_AES_128_CCM_8
    TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256
    TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384
    TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256
)
TLS13_ALL=(TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256
           TLS_AES_128_CCM_SHA256 TLS_AES_128_CCM_8_SHA256)

# Every TLS 1.2 suite of every profile (the union follows the table).
LISTED12=()
for p in "${IX_PROFILES[@]}"; do
    for s in ${IX_TLS12[$p]} ${IX_FALLBACK[$p]:-}; do
        ix_has "${LISTED12[*]:-}" "$s" || LISTED12+=("$s")
    done
done

# PROBES: "VERSION|OFFER|CERT|GROUP|FLAG" -- OFFER is ALL or one IANA suite;
# CERT rsa|ec is the server's certificate; GROUP restricts the key exchange;
# FLAG "ticket" / "keyupdate": see below.
PROBES=()
for v in "${IX_ALL_VERSIONS[@]}"; do
    PROBES+=("$v|ALL|rsa|" "$v|ALL|ec|")
done
for s in "${NOT_LISTED12[@]}"; do
    ix_has "${LISTED12[*]}" "$s" || LISTED12+=("$s")
done
for s in "${LISTED12[@]}"; do
    [ -n "${IX_OSSL[$s]:-}" ] || dtp_fail "this OpenSSL does not know $s (openssl ciphers -stdname)"
    case ${IX_AUTH[$s]} in RSA) c=rsa ;; ECDSA) c=ec ;; *) dtp_fail "unexpected authentication of $s: ${IX_AUTH[$s]}" ;; esac
    PROBES+=("TLSv1.2|$s|$c|")
done
for s in "${TLS13_ALL[@]}"; do PROBES+=("TLSv1.3|$s|rsa|"); done
PROBES+=("TLSv1|TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA|rsa|"
         "TLSv1.1|TLS_RSA_WITH_AES_256_CBC_SHA|rsa|"
         "TLSv1.1|TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA|ec|")
# Key exchange groups (IANA names, as in the table): small curves (OpenSSL
# offers them only up to TLS 1.2, so only with an ECDHE suite), a 256-bit
# curve no profile lists, and x25519, which CRYPTREC (NIST curves only) and
# B.13 (255 bits, M17/Q2) leave out.
for g in secp192r1 secp224r1 secp256k1 x25519; do
    PROBES+=("TLSv1.2|TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256|rsa|$g")
done
# x25519 first, secp256r1 second: a server without x25519 asks for
# secp256r1 with a HelloRetryRequest, its client is served secp256r1.
# x448 (B.12/B.13 only) and ffdhe2048 (every profile with TLS 1.3) alone.
PROBES+=("TLSv1.3|ALL|rsa|x25519" "TLSv1.3|ALL|rsa|x25519:secp256r1"
         "TLSv1.3|ALL|rsa|x448" "TLSv1.3|ALL|rsa|ffdhe2048")
# SCU role: the probes' s_server sends no TLS 1.3 session tickets
# (-num_tickets 0); these do, as OpenSSL servers do by default (two
# NewSessionTicket records right after the handshake). They arrive while the
# SCU waits (-ta 1) for an A-ASSOCIATE-AC that never comes: the 1 s ACSE
# timeout must still end the association (exit 7). Whether the tickets land
# before or during that wait is a race, so the probe runs three times.
# The "keyupdate" probe makes it deterministic: no tickets, but the server
# sends a TLS 1.3 KeyUpdate 0.3 s after the handshake (s_server's "k"
# command), i.e. inside the SCU's 1 s wait.
if [ "$ROLE" = scu ] && ix_has "${IX_VERSIONS[$PROFILE]}" TLSv1.3; then
    PROBES+=("TLSv1.3|ALL|rsa||ticket" "TLSv1.3|ALL|rsa||ticket" "TLSv1.3|ALL|rsa||ticket"
             "TLSv1.3|ALL|rsa||keyupdate")
fi

# ------------------------------------------------------------ expectation --
# expect VERSION OFFER CERT GROUP: "connect" or "refuse CODE NAME".
expect() {
    local v=$1 offer=$2 cert=$3 group=$4 auth=RSA pair
    [ "$cert" = ec ] && auth=ECDSA
    if ! ix_has "${IX_VERSIONS[$PROFILE]}" "$v"; then
        # A TLS 1.2-only client sends no supported_versions extension: a
        # server limited to TLS 1.0/1.1 settles on its own version and then
        # finds none of our (TLS 1.2-only) suites -- handshake_failure, not
        # protocol_version. (A TLS 1.3-capable client lists its versions, and
        # the server answers protocol_version.)
        if [ "$ROLE" = scu ] && ! ix_has "${IX_VERSIONS[$PROFILE]}" TLSv1.3 &&
           [ "$(ix_version_rank "$v")" -lt 3 ] && ! profile_suite_usable_at "$v"; then
            echo "$REFUSE_SUITE"; return
        fi
        echo "refuse 201 VERSION_REFUSED"; return
    fi
    if [ -n "$group" ]; then
        # Only ECDHE (TLS 1.2 probe) or TLS 1.3 key shares are on offer:
        # one of the listed groups must be the profile's.
        local g shared=0
        for g in ${group//:/ }; do ix_has "${IX_GROUPS[$PROFILE]}" "$g" && shared=1; done
        [ "$shared" = 1 ] || { echo "$REFUSE_SUITE"; return; }
    fi
    while read -r pair; do
        [ -n "$pair" ] || continue
        if [ "$offer" = ALL ] || [ "${pair#* }" = "$offer" ]; then
            [ "${pair%% *}" = "$v" ] && { echo connect; return; }
        fi
    done < <(ix_expected_pairs "$PROFILE" "$auth")
    echo "$REFUSE_SUITE"
}
if [ "$ROLE" = scp ]; then
    REFUSE_SUITE="refuse 202 NO_SHARED_SUITE"
else
    REFUSE_SUITE="refuse 209 PEER_ALERT"
fi

# profile_suite_usable_at VERSION: some TLS 1.2/fallback suite of the
# profile can be negotiated at VERSION.
profile_suite_usable_at() {
    local s
    for s in ${IX_TLS12[$PROFILE]} ${IX_FALLBACK[$PROFILE]:-}; do
        ix_usable "$s" "$1" && return 0
    done
    return 1
}

# in_expected VERSION SUITE CERT: the pair is one the profile allows.
in_expected() {
    local auth=RSA
    [ "$3" = ec ] && auth=ECDSA
    grep -qx -- "$1 $2" < <(ix_expected_pairs "$PROFILE" "$auth")
}

# Options for the OpenSSL tool to offer/accept exactly VERSION/OFFER/GROUP.
ossl_opts() {
    local v=$1 offer=$2 group=$3
    OPTS=("$(ix_ossl_version_opt "$v")")
    if [ "$v" = TLSv1.3 ]; then
        [ "$offer" = ALL ] || OPTS+=(-ciphersuites "$offer")
    elif [ "$offer" = ALL ]; then
        OPTS+=(-cipher 'ALL:@SECLEVEL=0')
    else
        OPTS+=(-cipher "${IX_OSSL[$offer]}:@SECLEVEL=0")
    fi
    [ -z "$group" ] || OPTS+=(-groups "$(ix_ossl_groups "$group")")
}

describe() {   # VERSION OFFER CERT GROUP -> "TLSv1.2 X (rsa cert, group P-224)"
    local d="offered $1 ${2/ALL/all suites}, $3 server cert"
    [ -z "$4" ] || d+=", groups ${4//:/, } only"
    echo "$d"
}

# record CASE OK EXPECT GOT VERSION SUITE NOTE: one result row + check.
record() {
    local c=$1 ok=$2 exp=$3 got=$4 v=$5 s=$6 note=$7 outcome
    DTP_CHECKS=$((DTP_CHECKS + 1))
    if [ "$ok" = 1 ]; then
        [ "$exp" = connect ] && outcome=pass || outcome=pinned
    else
        outcome=fail
        if [ "$exp" = "$got" ]; then
            dtp_check_fail "$c: $exp as expected, but: $note"
            note="UNEXPECTED: $note"
        else
            dtp_check_fail "$c: expected '$exp', got '$got' ($note)"
            note="UNEXPECTED: expected $exp, got $got; $note"
        fi
    fi
    ix_row openssl "$PROFILE" "$DIRECTION" "$outcome" "$v" "$s" "$note"
}

# ================================================= s_client -> dtp-storescp
run_scp() {
    DIRECTION=peer-\>dtp-storescp
    ix_start_scps "$PROFILE"
    local probe v offer cert group exp i=0 log mark line out got cl_v cl_s scp_v scp_s why
    for probe in "${PROBES[@]}"; do
        IFS="|" read -r v offer cert group _ <<< "$probe"
        i=$((i + 1))
        local c="p$i-$v-${offer}-$cert${group:+-$group}"
        exp=$(expect "$v" "$offer" "$cert" "$group")
        ossl_opts "$v" "$offer" "$group"
        log=$DTP_WORK/scp-$cert.log
        mark=$(dtp_log_lines "$log")
        out=$DTP_WORK/$c.out
        timeout -k 2 15 openssl s_client -connect "127.0.0.1:${IX_SCP_PORT[$cert]}" \
            -cert "$PKI/client-$cert.pem" -key "$PKI/client-$cert.key" -CAfile "$PKI/ca.pem" \
            -verify_return_error "${OPTS[@]}" </dev/null >"$out" 2>&1 || true
        # The SCP's association process logs the outcome (bounded wait).
        line=$(dtp_wait_line "$IX_SCP_END" "$log" "$mark" || true)
        # What s_client completed ("New, (NONE)" when it did not); the
        # session block names the version ("New, SSLv3" is the suite's).
        # (TLS 1.3: s_client leaves before the session ticket, so there is
        # no session block; "New, TLSv1.3" is the version then.)
        cl_v='' cl_s=''
        if grep -Eq '^New, [A-Za-z]' "$out" && ! grep -q '^New, (NONE)' "$out"; then
            cl_s=$(sed -n 's/^New, [^,]*, Cipher is \(.*\)$/\1/p' "$out" | head -n 1)
            cl_v=$(sed -n 's/^ *Protocol *: *\(.*\)$/\1/p' "$out" | head -n 1)
            [ -n "$cl_v" ] || cl_v=$(sed -n 's/^New, \([^,]*\), .*/\1/p' "$out" | head -n 1)
            [ -z "$cl_s" ] || cl_s=${IX_IANA[$cl_s]:-$cl_s}
        fi
        why=$(describe "$v" "$offer" "$cert" "$group")
        if [[ $line =~ :\ TLS\ (TLSv[0-9.]+)\ ([A-Z0-9_]+) ]]; then
            scp_v=${BASH_REMATCH[1]} scp_s=${BASH_REMATCH[2]}
            got="connect"
            local ok=1 detail=""
            [ "$exp" = connect ] || ok=0
            if [ "$cl_v $cl_s" != "$scp_v $scp_s" ]; then
                ok=0; detail+="; s_client says '$cl_v $cl_s', SCP '$scp_v $scp_s'"
            fi
            if ! in_expected "$scp_v" "$scp_s" "$cert"; then
                ok=0; detail+="; $scp_v $scp_s is not in the profile"
            fi
            if [ "$offer" != ALL ] && [ "$scp_s" != "$offer" ]; then
                ok=0; detail+="; negotiated $scp_s although only $offer was offered"
            fi
            if ix_downgraded "$PROFILE" "$scp_v" "$scp_s"; then
                [[ $line == *"DOWNGRADED (B6)"* ]] || { ok=0; detail+="; not flagged DOWNGRADED (B6)"; }
                detail+="; flagged DOWNGRADED (B6)"
            else
                [[ $line != *DOWNGRADED* ]] || { ok=0; detail+="; flagged DOWNGRADED although it is not"; }
            fi
            local grp=${line#* group=}
            [ "$grp" != "$line" ] && detail="; group=${grp%% *}$detail"
            record "$c" "$ok" "$exp" "$got" "$scp_v" "$scp_s" "$why${detail}"
        elif [[ $line =~ provider\ reason\ ([0-9]+)\ ([A-Z_]+) ]]; then
            got="refuse ${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
            local ok=1
            [ "$got" = "$exp" ] || ok=0
            # The peer must not have completed a handshake either.
            [ -z "$cl_v" ] || { ok=0; got+=" (but s_client completed $cl_v $cl_s)"; }
            local offered=$offer
            [ "$offered" != ALL ] || offered="(all)"
            record "$c" "$ok" "$exp" "$got" "$v" "$offered" "$why; SCP: ${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
        else
            record "$c" 0 "$exp" "no SCP log line within 5 s" "$v" "$offer" "$why"
        fi
    done
    # Nothing is ever stored by a handshake probe.
    for cert in rsa ec; do
        DTP_CHECKS=$((DTP_CHECKS + 1))
        [ -z "$(ls -A "$DTP_WORK/out-$cert")" ] ||
            dtp_check_fail "files in the $cert SCP's output directory: $(ls -A "$DTP_WORK/out-$cert")"
    done
}

# ================================================= dtp-storescu -> s_server
run_scu() {
    DIRECTION=dtp-storescu-\>peer
    local batch=12 n=${#PROBES[@]} start i
    local -a port=()
    for ((start = 0; start < n; start += batch)); do
        local pids=()
        # Start the batch's servers, then wait for them, then the clients.
        for ((i = start; i < start + batch && i < n; i++)); do
            local v offer cert group flag tickets=(-num_tickets 0)
            IFS='|' read -r v offer cert group flag <<< "${PROBES[$i]}"
            ossl_opts "$v" "$offer" "$group"
            [ "$flag" != ticket ] || tickets=()
            port[i]=$(dtp_free_port)
            local srv=(openssl s_server -accept "127.0.0.1:${port[i]}"
                       -cert "$PKI/server-$cert.pem" -key "$PKI/server-$cert.key"
                       -CAfile "$PKI/ca.pem" -Verify 1 -naccept 1 "${tickets[@]}" "${OPTS[@]}")
            if [ "$flag" = keyupdate ]; then
                # s_server reads its commands from a FIFO we hold open; "k"
                # goes in 0.3 s after it logs the completed handshake.
                local fifo=$DTP_WORK/srv-$i.stdin ku_fd
                mkfifo "$fifo"
                exec {ku_fd}<>"$fifo"
                # shellcheck disable=SC2016  # the inner bash expands them
                dtp_start "srv-$i" bash -c 'exec "$@" < "$0"' "$fifo" "${srv[@]}"
                (
                    for ((k = 0; k < 500; k++)); do
                        grep -aq '^CIPHER is' "$DTP_WORK/srv-$i.log" 2>/dev/null && break
                        sleep 0.02
                    done
                    sleep 0.3
                    echo k >&"$ku_fd"
                ) &
            else
                dtp_start "srv-$i" "${srv[@]}"
            fi
        done
        for ((i = start; i < start + batch && i < n; i++)); do
            dtp_wait_port "${port[i]}" 127.0.0.1 10 ||
                dtp_fail "openssl s_server for probe ${PROBES[$i]} did not listen on 127.0.0.1:${port[i]}"
            # -ts 5: a session that hangs past the ACSE timeout ends in 5 s.
            (
                rc=0 t0=$SECONDS
                timeout -k 2 20 "$DTP_BIN/dtp-storescu" -v -ta 1 -ts 5 --profile "$PROFILE" \
                    +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" \
                    127.0.0.1 "${port[i]}" "$FILE" </dev/null >"$DTP_WORK/scu-$i.out" 2>&1 || rc=$?
                echo "$rc $((SECONDS - t0))" > "$DTP_WORK/scu-$i.rc"
            ) &
            pids+=("$!")
        done
        for pid in "${pids[@]}"; do wait "$pid" || true; done
    done
    for ((i = 0; i < n; i++)); do
        local v offer cert group flag exp rc secs out got why
        IFS='|' read -r v offer cert group flag <<< "${PROBES[$i]}"
        local c="p$((i + 1))-$v-${offer}-$cert${group:+-$group}${flag:+-$flag}"
        exp=$(expect "$v" "$offer" "$cert" "$group")
        out=$DTP_WORK/scu-$i.out
        read -r rc secs < "$DTP_WORK/scu-$i.rc" 2>/dev/null || { rc=none secs='?'; }
        why=$(describe "$v" "$offer" "$cert" "$group")
        if [ "$flag" = ticket ]; then
            why+=", server sends TLS 1.3 session tickets"
        elif [ "$flag" = keyupdate ]; then
            why+=", server sends a TLS 1.3 KeyUpdate 0.3 s after the handshake (no tickets)"
        elif [ "$v" = TLSv1.3 ]; then
            why+=" (server sends no session tickets)"
        fi
        local tls
        tls=$(grep -Em1 '^[IW]: TLS TLSv[0-9.]+ [A-Z0-9_]+ ' "$out" || true)
        if [ -n "$tls" ]; then
            local sv ss ok=1 detail=""
            read -r _ _ sv ss _ <<< "$tls"
            [ "$exp" = connect ] || ok=0
            # s_server never answers the A-ASSOCIATE-RQ: ACSE timeout, exit 7.
            if [ "$rc" != 7 ]; then
                ok=0
                detail+="; after the handshake: exit $rc after ${secs} s ($(grep -Eo 'provider reason [0-9]+ [A-Z_]+|DUL network read timeout' "$out" | tail -n 1)), expected exit 7 on the 1 s ACSE timeout (-ta 1)"
            else
                [ -z "$flag" ] || detail+="; ACSE timeout (-ta 1) honoured: exit 7 after ${secs} s"
            fi
            in_expected "$sv" "$ss" "$cert" || { ok=0; detail+="; $sv $ss is not in the profile"; }
            if [ "$offer" != ALL ] && [ "$ss" != "$offer" ]; then
                ok=0; detail+="; negotiated $ss although the server offered only $offer"
            fi
            if ix_downgraded "$PROFILE" "$sv" "$ss"; then
                [[ $tls == *"DOWNGRADED (B6)"* ]] || { ok=0; detail+="; not flagged DOWNGRADED (B6)"; }
                detail+="; flagged DOWNGRADED (B6)"
            else
                [[ $tls != *DOWNGRADED* ]] || { ok=0; detail+="; flagged DOWNGRADED although it is not"; }
            fi
            local grp=${tls#* group=}
            [ "$grp" != "$tls" ] && detail="; group=${grp%% *}$detail"
            record "$c" "$ok" "$exp" connect "$sv" "$ss" "$why$detail"
        else
            local reason alert
            ix_scu_refusal "$out"
            reason=$IX_REASON alert=$IX_ALERT
            got="refuse ${reason:-none} (exit $rc)"
            local ok=1
            [ "refuse $reason" = "$exp" ] || ok=0
            [ "$rc" = 4 ] || ok=0
            # A suite refusal is the server's handshake_failure alert.
            if [ "$exp" = "refuse 209 PEER_ALERT" ] && [[ $alert != *handshake_failure* ]]; then
                ok=0; got+=" alert '${alert:-none}'"
            fi
            local offered=$offer
            [ "$offered" != ALL ] || offered="(all)"
            record "$c" "$ok" "$exp" "$got" "$v" "$offered" \
                "$why; SCU: ${reason:-no reason}${alert:+ ($alert)}"
        fi
    done
}

"run_$ROLE"
echo "${#PROBES[@]} probes ($ROLE, $PROFILE); rows in ${IX_RESULTS#"$DTP_BUILD_DIR"/}"
ix_done
