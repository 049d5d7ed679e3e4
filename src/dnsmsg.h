/*
 * dnsmsg.h -- DNS wire format on bytes: parse and check client queries,
 * build error replies with Extended DNS Errors (RFC 8914), and shape an
 * upstream reply for one client (ID, question, flags, DNSSEC records, OPT,
 * UDP truncation).  No allocation; every function works on caller buffers.
 */
#ifndef DS_DNSMSG_H
#define DS_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_LEN	12
#define DNS_MAX_NAME	255
#define DNS_MAX_MSG	65535
#define DNS_MIN_UDP	512

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_BADVERS = 16	/* extended: needs an OPT record */
};

enum dns_type {
	DNS_TYPE_A = 1, DNS_TYPE_NS = 2, DNS_TYPE_CNAME = 5, DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12, DNS_TYPE_MX = 15, DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28, DNS_TYPE_OPT = 41, DNS_TYPE_DS = 43,
	DNS_TYPE_RRSIG = 46, DNS_TYPE_NSEC = 47, DNS_TYPE_DNSKEY = 48,
	DNS_TYPE_NSEC3 = 50, DNS_TYPE_TKEY = 249, DNS_TYPE_TSIG = 250,
	DNS_TYPE_IXFR = 251, DNS_TYPE_AXFR = 252, DNS_TYPE_MAILB = 253,
	DNS_TYPE_MAILA = 254, DNS_TYPE_ANY = 255
};

#define DNS_CLASS_IN	1

/* RFC 8914 info-codes used by dotsec. */
enum dns_ede {
	DNS_EDE_OTHER = 0,
	DNS_EDE_STALE_ANSWER = 3,
	DNS_EDE_DNSSEC_BOGUS = 6,
	DNS_EDE_SIGNATURE_EXPIRED = 7,
	DNS_EDE_SIGNATURE_NOT_YET_VALID = 8,
	DNS_EDE_DNSKEY_MISSING = 9,
	DNS_EDE_RRSIGS_MISSING = 10,
	DNS_EDE_NO_ZONE_KEY_BIT = 11,
	DNS_EDE_NSEC_MISSING = 12,
	DNS_EDE_PROHIBITED = 18,
	DNS_EDE_NOT_SUPPORTED = 21,
	DNS_EDE_NO_REACHABLE_AUTHORITY = 22,
	DNS_EDE_NETWORK_ERROR = 23,
	DNS_EDE_INVALID_DATA = 24
};
#define DNS_EDE_NONE	(-1)

#define DNS_EDNS_OPT_KEEPALIVE	11	/* RFC 7828 */
#define DNS_EDNS_OPT_PADDING	12	/* RFC 7830 */
#define DNS_EDNS_OPT_EDE	15

/* A parsed query.  Everything points into the struct itself, nothing into
 * the packet, so the packet may be freed after parsing. */
struct dnsmsg_query {
	uint16_t id;
	uint8_t opcode;
	bool rd, cd, ad;
	bool question_ok;	/* qname/qtype/qclass were parsed */
	uint8_t qname[DNS_MAX_NAME];	/* wire form, uncompressed, case kept */
	size_t qname_len;		/* including the root label */
	uint16_t qtype, qclass;
	bool edns;		/* the query carried one OPT record */
	uint8_t edns_version;
	bool do_bit;
	uint16_t udp_size;	/* client's buffer: 512 without EDNS, and
				   never less than 512 */
};

/* Parse and check a query from a client (or from libunbound, at the relay).
 * Returns:
 *   0   q is a well-formed QUERY to resolve;
 *   -1  drop it, no reply can be formed: shorter than a header, or QR=1;
 *   >0  the rcode to answer with (q filled as far as parsing got; an error
 *       reply echoes the question only if q->question_ok):
 *       NOTIMP   opcode other than QUERY; qtype AXFR, IXFR, MAILA, MAILB;
 *       FORMERR  QDCOUNT != 1, ANCOUNT or NSCOUNT != 0, a bad or compressed
 *                or truncated name, a truncated question or record, a bad
 *                OPT (not owned by the root, two of them, option lengths
 *                that overrun the RDATA), qtype 0, OPT, TSIG or TKEY;
 *       REFUSED  class other than IN;
 *       BADVERS  EDNS version other than 0 (edns fields are filled).
 * Bytes after the last record are ignored. */
int dnsmsg_parse_query(const uint8_t *pkt, size_t len, struct dnsmsg_query *q);

/* Build an error reply to q: its ID, opcode, RD and CD, QR=1, RA=1, the
 * rcode; its question when q->question_ok; an OPT record (our udp size,
 * DO copied) only when the query had one, carrying an EDE option with
 * ede_code and ede_text when ede_code != DNS_EDE_NONE (text may be NULL).
 * BADVERS is encoded through the OPT's extended rcode.
 * Returns the length written, or -1 when outlen is too small. */
int dnsmsg_error(const struct dnsmsg_query *q, int rcode, int ede_code,
    const char *ede_text, uint16_t edns_size, uint8_t *out, size_t outlen);

/* A record of a locally made reply (dnsmsg_answer). */
struct dnsmsg_rr {
	const uint8_t *owner;	/* wire form; NULL: the question's name */
	size_t owner_len;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;	/* uncompressed */
	uint16_t rdlen;
};

/* Build a reply to q made here, not upstream: its ID, opcode, RD and CD,
 * QR=1, RA=1, AA=1, the rcode; its question (q->question_ok must be set);
 * rrs[0..nan-1] in the answer section and rrs[nan..nan+nns-1] in the
 * authority section, class IN; an OPT record (our udp size, DO copied)
 * only when the query had one.  Returns the length written, or -1 when
 * outlen is too small. */
int dnsmsg_answer(const struct dnsmsg_query *q, int rcode,
    const struct dnsmsg_rr *rrs, unsigned nan, unsigned nns,
    uint16_t edns_size, uint8_t *out, size_t outlen);

struct dnsmsg_shape_opts {
	bool ad;		/* set AD: the caller applied RFC 6840 5.8 */
	bool keep_dnssec;	/* keep RRSIG, NSEC, NSEC3 records */
	size_t max_size;	/* largest reply allowed (UDP limit) */
	uint16_t edns_size;	/* advertised in our own OPT */
	int ede_code;		/* DNS_EDE_NONE or an info-code to attach */
	const char *ede_text;	/* may be NULL */
};

/* Shape the upstream reply up (from libunbound or getdns) for the client
 * that asked q.  The result has q's ID and question bytes (case as the
 * client sent them), QR=1, opcode QUERY, AA, TC and rcode from upstream,
 * RD and CD from q, RA=1, AD = o->ad; the answer, authority and additional records
 * of upstream (names decompressed and compressed again), without RRSIG,
 * NSEC and NSEC3 records unless o->keep_dnssec or q->qtype is that type;
 * without the upstream's OPT; with our own OPT (o->edns_size, DO copied
 * from q, the optional EDE) only if q had one.
 * When the result would exceed o->max_size, the additional records are
 * dropped first; if it still does not fit, the reply is header, question
 * and OPT only, with TC=1.
 * Returns the length written; -1 when up is not a well-formed response
 * (too short, QR=0, bad names or records, QDCOUNT != 1, an OPT with an
 * extended rcode, which 4 bits cannot carry) or its question
 * differs from q's (name compared without case, type, class); -2 when
 * outlen is too small. */
int dnsmsg_shape(const struct dnsmsg_query *q, const uint8_t *up,
    size_t uplen, const struct dnsmsg_shape_opts *o, uint8_t *out,
    size_t outlen);

/* A record of a response, as dnsmsg_records hands it out. */
struct dnsmsg_record {
	unsigned section;	/* 0 answer, 1 authority, 2 additional */
	const uint8_t *owner;	/* wire form, decompressed, case kept */
	size_t owner_len;
	uint16_t type, rclass;
	uint32_t ttl;
	const uint8_t *rdata;	/* every name in it written out whole */
	uint16_t rdlen;
};

/* Call fn for each record of the response msg, in order, with the names
 * of the owner and of the RDATA (of the types RFC 1035 and RFC 3597 name)
 * decompressed; r and what it points to are valid during the call only.
 * Returns 0 when every record was read; -1 when msg is not a well-formed
 * response (fn has seen the records before the fault); or the first
 * nonzero value fn returned, which ends the walk. */
int dnsmsg_records(const uint8_t *msg, size_t len,
    int (*fn)(void *arg, const struct dnsmsg_record *r), void *arg);

/* Find the OPT record in the additional section of msg (a query or a
 * reply): *rdlen_at is the offset of its RDLENGTH field, *end the offset
 * just after its RDATA.  Returns 0, or -1 when msg has none, or when msg
 * or the OPT's options are malformed. */
int dnsmsg_opt_find(const uint8_t *msg, size_t len, size_t *rdlen_at,
    size_t *end);

/* Whether the OPT found by dnsmsg_opt_find holds an option of code. */
bool dnsmsg_opt_has(const uint8_t *msg, size_t rdlen_at, size_t end,
    uint16_t code);

/* The UDP reply limit for q: 512 without EDNS, else the client's size
 * capped by ours (and at least 512). */
size_t dnsmsg_udp_limit(const struct dnsmsg_query *q, uint16_t our_size);

/* Write the wire name as presentation text with a trailing dot ("." for
 * the root), escaping '.', '\\', '"', ';', '(', ')', '@', '$' and space as
 * "\c" and bytes outside 0x21..0x7e as "\DDD".  Returns the text length,
 * or -1 when the name is malformed or out is too small (4*255+1 is always
 * enough). */
int dnsmsg_name_to_str(const uint8_t *name, size_t len, char *out,
    size_t outlen);

/* Get or set the ID of a message of at least DNS_HEADER_LEN bytes. */
uint16_t dnsmsg_get_id(const uint8_t *pkt);
void dnsmsg_set_id(uint8_t *pkt, uint16_t id);

/* The rcode (low 4 bits) of a message of at least DNS_HEADER_LEN bytes. */
int dnsmsg_get_rcode(const uint8_t *pkt);

/* Whether two wire names of len bytes are equal, A-Z compared without
 * case (the only letters DNS folds). */
bool dnsmsg_name_equal(const uint8_t *a, const uint8_t *b, size_t len);

/* How many labels of name (wire form, len bytes) lie at and below zone
 * (wire form, zlen bytes): the number of name's labels when name is zone
 * or a name below it, compared without case, else -1.  The root label
 * does not count: "." is 0 labels, everything is at or below it. */
int dnsmsg_name_below(const uint8_t *name, size_t len, const uint8_t *zone,
    size_t zlen);

/* The number of labels of a wire name, the root not counted; -1 when
 * malformed. */
int dnsmsg_name_labels(const uint8_t *name, size_t len);

/* True for RRSIG, NSEC and NSEC3. */
bool dnsmsg_is_dnssec_type(uint16_t type);

#endif /* DS_DNSMSG_H */
