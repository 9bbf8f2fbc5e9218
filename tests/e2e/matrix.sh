#!/bin/bash
# matrix.sh KEYTYPE -- every dtp-storescu profile against every dtp-storescp
# profile (6 x 6 pairs), with RSA or ECDSA certificates on both sides.
#
# For each pair the script records what really happened -- connected (TLS
# version, suite, key exchange group, object stored intact) or refused (the
# SCU's and the SCP's provider reason, C6) -- prints the result as a Markdown
# table (stdout and $DTP_BUILD_DIR/matrix-KEYTYPE.md) and compares it with the
# table derived from the profiles (spec/profiles.md,
# spec/current-profiles.md, --list-profiles):
#
#  * Version: bcp195-ex is TLS 1.2 only (E4); the other five reach TLS 1.3
#    (B1, N3, K5, R5/R6, M32/M34/M35). So a pair with bcp195-ex on either
#    side meets at TLS 1.2, every other pair at TLS 1.3.
#  * Suite: the SCP's preference wins (server preference in every profile).
#    - TLS 1.3: the seeds' SCPs (bcp195, bcp195-nd, cryptrec) list
#      TLS_AES_128_GCM_SHA256 first; the B.12/B.13 SCPs list
#      TLS_AES_256_GCM_SHA384 first (R25, M18). Every SCU offers both, so
#      the SCP's first suite is chosen.
#    - TLS 1.2 (only with bcp195-ex on one side): a seed SCP picks its first
#      B1/E3 suite usable with the certificate, AES-128
#      (ECDHE_RSA/ECDSA_WITH_AES_128_GCM_SHA256); a B.12/B.13 SCP picks
#      AES-256 first (R25, M21: ECDHE_RSA/ECDSA_WITH_AES_256_GCM_SHA384),
#      which bcp195-ex offers. bcp195-ex's own SCP prefers AES-128, which
#      both B.12 and B.13 SCUs offer (R21/R23, M21).
#  * Group: X25519 is offered by bcp195, bcp195-nd and bcp195-8996 (first in
#    their lists, R26/Q2) and by nobody else: bcp195-ex (E5), cryptrec (K3)
#    and bcp195-8996-mod (M17, Q2: X25519 counts 255 bits) list P-256 first.
#    - TLS 1.3: the SCU sends one key share, for its first group. An
#      X25519-first SCU meets an X25519 SCP on x25519; against cryptrec or
#      bcp195-8996-mod the SCP asks for another share (HelloRetryRequest)
#      with its first group, secp256r1. A P-256-first SCU gets secp256r1
#      everywhere (every SCP has P-256).
#    - TLS 1.2: the SCP picks by its preference among the SCU's groups:
#      bcp195-ex is on one side and has no X25519, so always secp256r1.
#  * ALPN/EMS: B.12/B.13 SCUs offer ALPN "dicom", which the seeds' SCPs
#    ignore, and B.12/B.13 SCPs accept SCUs that send none (R39); every SCU
#    negotiates EMS, which B.12/B.13 require at TLS 1.2 (R36), so neither
#    refuses a pair.
#  * RSA: every profile has ECDHE_RSA AES-GCM at TLS 1.2 (B1, N2, E2, K2, R21,
#    M21) and all but bcp195-ex have TLS 1.3, so all 36 pairs connect.
#  * EC: the BCP195 profile's TLS 1.2 list is the B1 RSA suites plus the
#    RSA-key-exchange fallback (B1, B2); it has no ECDSA suite. Where a pair
#    can only meet at TLS 1.2 (bcp195 against bcp195-ex) an ECDSA
#    certificate leaves no shared suite: the SCP refuses with 202
#    NO_SHARED_SUITE and sends a handshake_failure alert, which the SCU
#    reports as 209 PEER_ALERT. That holds in both directions (bcp195 SCP with
#    an EC certificate; bcp195 SCU whose offer has no ECDSA suite for the
#    bcp195-ex SCP's EC certificate). The SCU exits 4 (TLS refused). Every
#    other TLS 1.2 pair has the ECDSA AES-GCM suites on both sides (N3, E3,
#    R21, M21), so 34 of the 36 pairs connect.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 rsa|ec" >&2; exit 1; }
KEYTYPE=$1
case $KEYTYPE in rsa | ec) ;; *) echo "$0: KEYTYPE must be rsa or ec" >&2; exit 1 ;; esac

dtp_init "matrix-$KEYTYPE"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}" "${DTP_BUILD_DIR:?}"
dtp_need_cmd dcmdump timeout setsid
PKI=$DTP_PKI
PROFILES=(bcp195 bcp195-nd bcp195-ex cryptrec bcp195-8996 bcp195-8996-mod)
NPAIRS=$((${#PROFILES[@]} * ${#PROFILES[@]}))
FILE=$DTP_DATA/small/small-1.dcm
[ -f "$FILE" ] || dtp_fail "fixture $FILE missing"

# ----------------------------------------------------------- expectation --
# One line per pair: SCU-PROFILE SCP-PROFILE RESULT, where RESULT is
# "VERSION SUITE GROUP" or "refused SCU-REASON SCP-REASON" (rules above).
T13=TLS_AES_128_GCM_SHA256
T256=TLS_AES_256_GCM_SHA384
R12=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
R256=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
E12=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
E256=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
REFUSED='refused 209/PEER_ALERT 202/NO_SHARED_SUITE'
case $KEYTYPE in
rsa) EXPECTED="
bcp195          bcp195          TLSv1.3 $T13 x25519
bcp195          bcp195-nd       TLSv1.3 $T13 x25519
bcp195          bcp195-ex       TLSv1.2 $R12 secp256r1
bcp195          cryptrec        TLSv1.3 $T13 secp256r1
bcp195          bcp195-8996     TLSv1.3 $T256 x25519
bcp195          bcp195-8996-mod TLSv1.3 $T256 secp256r1
bcp195-nd       bcp195          TLSv1.3 $T13 x25519
bcp195-nd       bcp195-nd       TLSv1.3 $T13 x25519
bcp195-nd       bcp195-ex       TLSv1.2 $R12 secp256r1
bcp195-nd       cryptrec        TLSv1.3 $T13 secp256r1
bcp195-nd       bcp195-8996     TLSv1.3 $T256 x25519
bcp195-nd       bcp195-8996-mod TLSv1.3 $T256 secp256r1
bcp195-ex       bcp195          TLSv1.2 $R12 secp256r1
bcp195-ex       bcp195-nd       TLSv1.2 $R12 secp256r1
bcp195-ex       bcp195-ex       TLSv1.2 $R12 secp256r1
bcp195-ex       cryptrec        TLSv1.2 $R12 secp256r1
bcp195-ex       bcp195-8996     TLSv1.2 $R256 secp256r1
bcp195-ex       bcp195-8996-mod TLSv1.2 $R256 secp256r1
cryptrec        bcp195          TLSv1.3 $T13 secp256r1
cryptrec        bcp195-nd       TLSv1.3 $T13 secp256r1
cryptrec        bcp195-ex       TLSv1.2 $R12 secp256r1
cryptrec        cryptrec        TLSv1.3 $T13 secp256r1
cryptrec        bcp195-8996     TLSv1.3 $T256 secp256r1
cryptrec        bcp195-8996-mod TLSv1.3 $T256 secp256r1
bcp195-8996     bcp195          TLSv1.3 $T13 x25519
bcp195-8996     bcp195-nd       TLSv1.3 $T13 x25519
bcp195-8996     bcp195-ex       TLSv1.2 $R12 secp256r1
bcp195-8996     cryptrec        TLSv1.3 $T13 secp256r1
bcp195-8996     bcp195-8996     TLSv1.3 $T256 x25519
bcp195-8996     bcp195-8996-mod TLSv1.3 $T256 secp256r1
bcp195-8996-mod bcp195          TLSv1.3 $T13 secp256r1
bcp195-8996-mod bcp195-nd       TLSv1.3 $T13 secp256r1
bcp195-8996-mod bcp195-ex       TLSv1.2 $R12 secp256r1
bcp195-8996-mod cryptrec        TLSv1.3 $T13 secp256r1
bcp195-8996-mod bcp195-8996     TLSv1.3 $T256 secp256r1
bcp195-8996-mod bcp195-8996-mod TLSv1.3 $T256 secp256r1
" ;;
ec) EXPECTED="
bcp195          bcp195          TLSv1.3 $T13 x25519
bcp195          bcp195-nd       TLSv1.3 $T13 x25519
bcp195          bcp195-ex       $REFUSED
bcp195          cryptrec        TLSv1.3 $T13 secp256r1
bcp195          bcp195-8996     TLSv1.3 $T256 x25519
bcp195          bcp195-8996-mod TLSv1.3 $T256 secp256r1
bcp195-nd       bcp195          TLSv1.3 $T13 x25519
bcp195-nd       bcp195-nd       TLSv1.3 $T13 x25519
bcp195-nd       bcp195-ex       TLSv1.2 $E12 secp256r1
bcp195-nd       cryptrec        TLSv1.3 $T13 secp256r1
bcp195-nd       bcp195-8996     TLSv1.3 $T256 x25519
bcp195-nd       bcp195-8996-mod TLSv1.3 $T256 secp256r1
bcp195-ex       bcp195          $REFUSED
bcp195-ex       bcp195-nd       TLSv1.2 $E12 secp256r1
bcp195-ex       bcp195-ex       TLSv1.2 $E12 secp256r1
bcp195-ex       cryptrec        TLSv1.2 $E12 secp256r1
bcp195-ex       bcp195-8996     TLSv1.2 $E256 secp256r1
bcp195-ex       bcp195-8996-mod TLSv1.2 $E256 secp256r1
cryptrec        bcp195          TLSv1.3 $T13 secp256r1
cryptrec        bcp195-nd       TLSv1.3 $T13 secp256r1
cryptrec        bcp195-ex       TLSv1.2 $E12 secp256r1
cryptrec        cryptrec        TLSv1.3 $T13 secp256r1
cryptrec        bcp195-8996     TLSv1.3 $T256 secp256r1
cryptrec        bcp195-8996-mod TLSv1.3 $T256 secp256r1
bcp195-8996     bcp195          TLSv1.3 $T13 x25519
bcp195-8996     bcp195-nd       TLSv1.3 $T13 x25519
bcp195-8996     bcp195-ex       TLSv1.2 $E12 secp256r1
bcp195-8996     cryptrec        TLSv1.3 $T13 secp256r1
bcp195-8996     bcp195-8996     TLSv1.3 $T256 x25519
bcp195-8996     bcp195-8996-mod TLSv1.3 $T256 secp256r1
bcp195-8996-mod bcp195          TLSv1.3 $T13 secp256r1
bcp195-8996-mod bcp195-nd       TLSv1.3 $T13 secp256r1
bcp195-8996-mod bcp195-ex       TLSv1.2 $E12 secp256r1
bcp195-8996-mod cryptrec        TLSv1.3 $T13 secp256r1
bcp195-8996-mod bcp195-8996     TLSv1.3 $T256 secp256r1
bcp195-8996-mod bcp195-8996-mod TLSv1.3 $T256 secp256r1
" ;;
esac
declare -A want=()
while read -r scu scp rest; do
    [ -n "$scu" ] || continue
    want[$scu/$scp]=$rest
done <<< "$EXPECTED"
[ ${#want[@]} -eq "$NPAIRS" ] || dtp_fail "internal: expected table has ${#want[@]} pairs, not $NPAIRS"

# ------------------------------------------------------------------ SCPs --
declare -A port=() outdir=()
for scp in "${PROFILES[@]}"; do
    port[$scp]=$(dtp_free_port)
    outdir[$scp]=$DTP_WORK/out-$scp
    mkdir "${outdir[$scp]}"
    dtp_start "scp-$scp" "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$scp" \
        +tls "$PKI/server-$KEYTYPE.key" "$PKI/server-$KEYTYPE.pem" +cf "$PKI/ca.pem" \
        -od "${outdir[$scp]}" -v "${port[$scp]}"
done
for scp in "${PROFILES[@]}"; do
    dtp_wait_port "${port[$scp]}" 127.0.0.1 10 ||
        dtp_fail "dtp-storescp --profile $scp did not listen on 127.0.0.1:${port[$scp]}"
done

# Lines that end one association in an SCP log: success or failure.
END_RE='association from 127\.0\.0\.1:[0-9]+( ended: |: A-P-ABORT, provider reason )'
ends_in() { grep -Ec "$END_RE" "$1" || true; }

# ----------------------------------------------------------------- pairs --
declare -A got=() problems=()
mismatches=()
for scu in "${PROFILES[@]}"; do
    for scp in "${PROFILES[@]}"; do
        pair=$scu/$scp
        log=$DTP_WORK/scp-$scp.log
        scu_log=$DTP_WORK/scu-$scu-to-$scp.log
        before=$(ends_in "$log")
        find "${outdir[$scp]}" -mindepth 1 -delete
        rc=0
        timeout -k 5 30 "$DTP_BIN/dtp-storescu" --profile "$scu" \
            +tls "$PKI/client-$KEYTYPE.key" "$PKI/client-$KEYTYPE.pem" +cf "$PKI/ca.pem" \
            127.0.0.1 "${port[$scp]}" "$FILE" </dev/null >"$scu_log" 2>&1 || rc=$?
        # The SCP's association process logs when it is done (bounded wait).
        dtp_wait_grep "$END_RE" "$log" 5 "$((before + 1))" || true
        scp_line=$(grep -E "$END_RE" "$log" | tail -n +$((before + 1)) | head -n 1 || true)
        why=()
        if [ "$rc" -eq 0 ]; then
            tls=$(sed -n "s/^TLS: profile $scu: \(TLSv[0-9.]*\) \([A-Z0-9_]*\) group=\([^/ ]*\)\/.*/\1 \2 \3/p" "$scu_log")
            got[$pair]=${tls:-connected, no TLS line}
            [ -n "$tls" ] || why+=("SCU printed no TLS line")
            grep -q '^summary: 1 of 1 objects stored' "$scu_log" || why+=("SCU summary is not '1 of 1 objects stored'")
            [[ $scp_line == *" ended: 1 objects stored "*", 0 failed" ]] ||
                why+=("SCP did not log a completed association: '${scp_line:-nothing within 5 s}'")
            # The SCP logs the same version/suite/group as the SCU (B6). (The
            # SCP prints the group's size only where OpenSSL gives it the
            # peer's ephemeral key: TLS 1.3, not TLS 1.2.)
            # Pairs run one after the other, so the SCP's last TLS line is
            # this association's.
            scp_tls=$(grep -E 'association from 127\.0\.0\.1:[0-9]+: TLS ' "$log" | tail -n 1 || true)
            if [ -n "$tls" ]; then
                read -r v s g <<< "$tls"
                [[ $scp_tls =~ :\ TLS\ $v\ $s\ group=$g(/[0-9]+bits)?\ peer= ]] ||
                    why+=("SCP logged '${scp_tls:-no TLS line}', not 'TLS $v $s group=$g'")
            fi
            # ALPN (R39): a B.12/B.13 SCU offers "dicom"; only a B.12/B.13
            # SCP selects it (the seeds' SCPs have no ALPN), and then both
            # sides log alpn=dicom.
            alpn=no
            [[ $scu == bcp195-8996* && $scp == bcp195-8996* ]] && alpn=yes
            for side in SCU SCP; do
                line=$(grep -E "^TLS: profile $scu: " "$scu_log" || true)
                [ "$side" = SCU ] || line=$scp_tls
                has=no
                [[ $line == *" alpn=dicom"* ]] && has=yes
                [ "$has" = "$alpn" ] || why+=("$side: alpn=dicom logged: $has, expected $alpn")
            done
            # Exactly one complete file: no temporary (.part) left behind.
            mapfile -t stored < <(find "${outdir[$scp]}" -mindepth 1)
            if [ ${#stored[@]} -ne 1 ] || [[ ${stored[0]##*/} == .* ]]; then
                why+=("SCP output dir holds ${#stored[@]} entries, expected 1: $(ls -A "${outdir[$scp]}")")
            elif ! dtp_same_dataset "$FILE" "${stored[0]}"; then
                why+=("stored object ${stored[0]} differs from $FILE")
            fi
        else
            scu_reason=$(sed -nE 's/^E: association failed: A-P-ABORT, provider reason ([0-9]+) ([A-Z_]+):.*/\1\/\2/p' "$scu_log" | head -n 1)
            scp_reason=$(sed -nE 's/.*: A-P-ABORT, provider reason ([0-9]+) ([A-Z_]+):.*/\1\/\2/p' <<< "$scp_line")
            got[$pair]="refused ${scu_reason:-none} ${scp_reason:-none}"
            [ "$rc" -eq 4 ] || why+=("SCU exit code $rc, expected 4 (TLS refused)")
            [ -n "$scu_reason" ] || why+=("SCU logged no provider reason")
            [ -n "$scp_reason" ] || why+=("SCP logged no provider reason within 5 s")
            if [ -n "$(ls -A "${outdir[$scp]}")" ]; then
                why+=("refused, but SCP output dir is not empty: $(ls -A "${outdir[$scp]}")")
            fi
        fi
        if [ "${got[$pair]}" != "${want[$pair]}" ]; then
            why+=("expected '${want[$pair]}', got '${got[$pair]}' (SCU exit $rc)")
        fi
        if [ ${#why[@]} -gt 0 ]; then
            problems[$pair]=$(printf '%s; ' "${why[@]}")
            mismatches+=("$pair: ${problems[$pair]}")
        fi
    done
done

# ---------------------------------------------------------------- report --
cell() {
    local r=$1
    if [[ $r == refused* ]]; then
        read -r _ a b <<< "$r"
        echo "refused: SCU ${a/\// } / SCP ${b/\// }"
    else
        read -r v s g <<< "$r"
        echo "$v $s ($g)"
    fi
}
{
    echo "## dtp-storescu x dtp-storescp, $KEYTYPE certificates"
    echo
    echo "Rows: SCU profile; columns: SCP profile. Connected: TLS version, suite"
    echo "(key exchange group). Refused: provider reason (C6) seen by each side."
    echo
    printf '| SCU \\ SCP |'; printf ' %s |' "${PROFILES[@]}"; echo
    printf '|---|'; printf -- '---|%.0s' "${PROFILES[@]}"; echo
    for scu in "${PROFILES[@]}"; do
        printf '| **%s** |' "$scu"
        for scp in "${PROFILES[@]}"; do
            mark=
            [ -z "${problems[$scu/$scp]:-}" ] || mark=' **(unexpected)**'
            printf ' %s%s |' "$(cell "${got[$scu/$scp]}")" "$mark"
        done
        echo
    done
} > "$DTP_WORK/matrix.md"
cat "$DTP_WORK/matrix.md"
cp "$DTP_WORK/matrix.md" "$DTP_BUILD_DIR/matrix-$KEYTYPE.md"

if [ ${#mismatches[@]} -gt 0 ]; then
    dtp_fail "${#mismatches[@]} of $NPAIRS pairs differ from the expected table:
$(printf '  %s\n' "${mismatches[@]}")"
fi
echo "PASS: all $NPAIRS pairs as expected ($KEYTYPE); table in $DTP_BUILD_DIR/matrix-$KEYTYPE.md"
