#!/bin/bash
# test_validate.sh -- dotsecd's verdicts and reply shaping, for every case of
# ds_cases (lib.sh): secure (algorithms 8/13/15, NSEC and NSEC3, NXDOMAIN,
# NODATA, wildcard, CNAME into another secure zone), insecure, and each kind
# of bogus; over UDP and TCP; with EDNS and DO=0, DO=1, AD cleared, no EDNS,
# and CD=1.  Then: question case kept, UDP truncation of a big RRset, our
# OPT advertising 1232.
#
# Rules checked (DESIGN.md, "Rules of behaviour"):
#   AD only on a secure answer, and only when the query had DO or AD;
#   RRSIG/NSEC/NSEC3 only when the query had DO;
#   no OPT (and so no EDE) to a client that sent none;
#   bogus -> SERVFAIL, no data, with an EDE of the expected code;
#   CD=1 -> the data (bogus too), no AD;
#   RD, CD echoed, QR and RA set.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_validate.sh
#      (DS_FILTER=REGEX: only the ds_cases whose label matches, e.g. 'badsig|nosig')
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
world_start
ds_dotsecd_start timeout=3000

T=$WORLD_TLD

# check_mode PROTO MODE LABEL QNAME QTYPE KIND RCODE CD_RCODE DATA EDE
check_mode() {
	local proto=$1 mode=$2 label=$3 qname=$4 qtype=$5 kind=$6 rcode=$7
	local cdrcode=$8 data=$9 ede=${10} p=() m=() codes=()
	local do=0 edns=1 cd=0 adq=1
	case $proto in
	udp) p=(+notcp +ignore) ;;
	tcp) p=(+tcp) ;;
	esac
	case $mode in
	edns) m=() ;;
	do) m=(+dnssec); do=1 ;;
	noad) m=(+noadflag); adq=0 ;;
	noad-do) m=(+noadflag +dnssec); adq=0; do=1 ;;
	noedns) m=(+noedns); edns=0 ;;
	noedns-noad) m=(+noedns +noadflag); edns=0; adq=0 ;;
	cd) m=(+cd); cd=1 ;;
	cd-do) m=(+cd +dnssec); cd=1; do=1 ;;
	esac
	IFS=, read -r -a codes <<<"$ede"

	ds_dig "$label $qname $qtype $proto $mode" "${p[@]}" "${m[@]}" "$qname" "$qtype"
	[ "$DS_DIG_RC" = 0 ] || return 0
	ds_expect_flag qr rd ra
	ds_expect_noflag tc

	# EDNS: our OPT (1232, DO echoed) only to a client that sent one.
	if [ $edns = 1 ]; then
		ds_expect_opt 1232
		if [ $do = 1 ]; then ds_expect_opt_do; else ds_expect_opt_nodo; fi
	else
		ds_expect_no_opt
	fi

	if [ $cd = 1 ]; then
		# Checking disabled: the data as it is, never AD, no EDE.
		ds_expect_flag cd
		ds_expect_rcode "$cdrcode"
		ds_expect_noflag ad
		ds_expect_no_ede
		if [ "$data" = - ]; then
			ds_expect_ancount 0
		else
			ds_expect_answer_has "$data"
		fi
		if [ $do = 1 ] && [ "$kind" = secure ] && [ "$data" != - ]; then
			ds_expect_rrsig ANSWER
		fi
		[ $do = 1 ] || ds_expect_no_dnssec_rrs
		return 0
	fi
	ds_expect_noflag cd
	ds_expect_rcode "$rcode"

	case $kind in
	secure)
		if [ $do = 1 ] || [ $adq = 1 ]; then
			ds_expect_flag ad
		else
			ds_expect_noflag ad
		fi
		ds_expect_no_ede
		;;
	insecure)
		ds_expect_noflag ad
		ds_expect_no_ede
		;;
	bogus)
		ds_expect_noflag ad
		ds_expect_ancount 0
		if [ $edns = 1 ]; then
			ds_expect_ede "${codes[@]}"
		else
			ds_expect_no_ede
		fi
		;;
	esac

	if [ "$kind" != bogus ]; then
		if [ "$data" = - ]; then
			ds_expect_ancount 0
		else
			ds_expect_answer_has "$data"
		fi
	fi

	if [ $do = 1 ]; then
		case $kind in
		secure)
			if [ "$data" = - ]; then
				# The denial: NSEC/NSEC3 and their RRSIGs.
				ds_expect_rrsig AUTHORITY
			else
				ds_expect_rrsig ANSWER
			fi
			;;
		insecure) ds_expect_no_rrsig ANSWER ;;
		esac
	else
		ds_expect_no_dnssec_rrs
	fi
}

MODES="edns do noad noad-do noedns noedns-noad cd cd-do"
while read -r label qname qtype kind rcode cdrcode data ede; do
	# DS_FILTER=REGEX runs only the cases whose label matches.
	printf '%s\n' "$label" | grep -qE -- "${DS_FILTER:-.}" || continue
	for proto in udp tcp; do
		for mode in $MODES; do
			check_mode "$proto" "$mode" "$label" "$qname" "$qtype" \
				"$kind" "$rcode" "$cdrcode" "$data" "$ede"
		done
	done
done <<EOF
$(ds_cases)
EOF

# ------------------------------------------------ question case preserved

for proto in +notcp +tcp; do
	for d in +nodnssec +dnssec; do
		ds_dig "case kept: WwW.SeC8 A $proto $d" "$proto" +ignore "$d" \
			"WwW.SeC8.$T." A
		ds_expect_rcode NOERROR
		ds_expect_question "WwW.SeC8.$T."
		ds_expect_flag ad
		ds_expect_answer_has 192.0.2.8

		ds_dig "case kept: Nx.SeC13 A (NXDOMAIN) $proto $d" "$proto" \
			+ignore "$d" "Nx.SeC13.$T." A
		ds_expect_rcode NXDOMAIN
		ds_expect_question "Nx.SeC13.$T."

		ds_dig "case kept: WwW.BadSig A (SERVFAIL) $proto $d" "$proto" \
			+ignore "$d" "WwW.BadSig.$T." A
		ds_expect_rcode SERVFAIL
		ds_expect_question "WwW.BadSig.$T."
		ds_expect_ede 6

		ds_dig "case kept: WwW.SeC8 A CD=1 $proto $d" "$proto" \
			+ignore "$d" +cd "WwW.SeC8.$T." A
		ds_expect_rcode NOERROR
		ds_expect_question "WwW.SeC8.$T."
	done
done

# ------------------------------------------------ big RRset, truncation

B=$WORLD_BIG_NAME
N=$WORLD_BIG_COUNT

ds_dig "big TXT over UDP without EDNS: TC=1" +notcp +ignore +noedns "$B" TXT
ds_expect_rcode NOERROR
ds_expect_flag tc
ds_expect_no_opt
ds_expect_ancount 0

ds_dig "big TXT over UDP, EDNS 1232, DO=0: TC=1" +notcp +ignore "$B" TXT
ds_expect_flag tc
ds_expect_opt 1232
ds_expect_ancount 0

ds_dig "big TXT over UDP, EDNS 1232, DO=1: TC=1" +notcp +ignore +dnssec "$B" TXT
ds_expect_flag tc
ds_expect_opt 1232
ds_expect_opt_do
ds_expect_ancount 0

ds_dig "big TXT over UDP, client bufsize 4096 capped by our 1232: TC=1" \
	+notcp +ignore +bufsize=4096 +dnssec "$B" TXT
ds_expect_flag tc
ds_expect_opt 1232

ds_dig "big TXT over TCP without EDNS: whole, AD (query AD=1)" +tcp +noedns "$B" TXT
ds_expect_rcode NOERROR
ds_expect_noflag tc
ds_expect_flag ad
ds_expect_no_opt
ds_expect_ancount "$N"

ds_dig "big TXT over TCP, DO=1: whole with RRSIG" +tcp +dnssec "$B" TXT
ds_expect_rcode NOERROR
ds_expect_noflag tc
ds_expect_flag ad
ds_expect_ancount $((N + 1))
ds_expect_rrsig ANSWER

ds_dig "big TXT after truncation: dig retries over TCP and gets it whole" \
	+notcp +noedns "$B" TXT
ds_expect_ancount "$N"

ds_dig "small answer over UDP without EDNS is not truncated" +notcp +ignore \
	+noedns "www.sec8.$T" TXT
ds_expect_noflag tc
ds_expect_ancount 1

# ------------------------------------------------ our OPT

for b in 512 1232 4096; do
	ds_dig "reply OPT advertises 1232 (client bufsize $b)" +notcp +ignore \
		+bufsize=$b "www.sec13.$T" A
	ds_expect_opt 1232
done

ds_dotsecd_stop
ds_finish
