/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Header parsers for the decap program: one per header, each over a cursor, each bounds-checked. */
#ifndef XDP_DECAP_PARSING_H
#define XDP_DECAP_PARSING_H

#include <linux/bpf.h>
#include <linux/errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/*
 * Every parser has the same shape: it takes the cursor and data_end, returns the next protocol
 * (host byte order) or a negative PARSE_* value, and on success moves the cursor past its header.
 * The bounds-check idiom is always `if ((void *)(hdr + 1) > data_end) return PARSE_TRUNCATED;`,
 * right before the first access: the verifier rejects any packet read it cannot prove in bounds.
 */
#define PARSE_TRUNCATED -1 /* the frame ends inside this header */
#define PARSE_MALFORMED -2 /* a field holds a value the RFC does not allow */
#define PARSE_FRAGMENT -3  /* outer IP fragment: later fragments carry no UDP header */
#define PARSE_UNSUPPORTED -4

/* Up to this many 802.1Q / 802.1ad tags in a row (QinQ is 2); the loop is unrolled for the verifier. */
#ifndef VLAN_MAX_DEPTH
#define VLAN_MAX_DEPTH 2
#endif

/* IPv6 extension headers the UAPI headers do not name (IANA protocol numbers; RFC 7401, RFC 5533). */
#define NEXTHDR_HIP 139
#define NEXTHDR_SHIM6 140

#define IPV4_MF 0x2000
#define IPV4_OFFSET 0x1FFF

#define VXLAN_FLAG_I 0x08 /* RFC 7348: the VNI is valid */
#define GENEVE_FLAG_O 0x80 /* RFC 8926: OAM / control packet */

/* VXLAN-GPE flags (draft-ietf-nvo3-vxlan-gpe section 3.1): R R Ver(2) I P B O. */
#define GPE_FLAG_VER 0x30
#define GPE_FLAG_I 0x08
#define GPE_FLAG_P 0x04 /* the next protocol field is present */
#define GPE_FLAG_O 0x01 /* OAM */
#define GPE_NP_IPV4 1
#define GPE_NP_IPV6 2
#define GPE_NP_ETHERNET 3

/*
 * GRE flags and version (RFC 2784 section 2, RFC 2890 section 2), host byte order: tested against the header's
 * word as it is on the wire (flags & bpf_htons(GRE_FLAG_x), swapped at compile time). A value that went
 * through a byte swap at run time has no known bounds for the verifiers of 6.1 and 6.12 (`r = be16 r` forgets
 * them; 6.18 keeps them), so a swapped flag must never size a cursor move: see parse_gre_options.
 */
#define GRE_FLAG_C 0x8000 /* checksum + reserved1 present */
#define GRE_FLAG_R 0x4000 /* RFC 1701 routing present */
#define GRE_FLAG_K 0x2000 /* key present */
#define GRE_FLAG_S 0x1000 /* sequence number present */
#define GRE_VERSION 0x0007

/* GRE protocol types of ERSPAN (the kernel's UAPI if_ether.h names 0x88BE ETH_P_ERSPAN, 0x22EB ETH_P_ERSPAN2). */
#ifndef ETH_P_ERSPAN
#define ETH_P_ERSPAN 0x88BE
#endif
#ifndef ETH_P_ERSPAN2
#define ETH_P_ERSPAN2 0x22EB
#endif
#define ERSPAN_II_VERSION 1
#define ERSPAN_III_VERSION 2

/* At most this many IPv6 extension headers are walked (the fragment header included); more is unsupported. */
#ifndef IPV6_EXT_MAX
#define IPV6_EXT_MAX 4
#endif
#define IPV6_FRAG_OFFSET 0xFFF8 /* of frag_off in host order */
#define IPV6_FRAG_M 0x0001

/* What a tunnel header says follows it (parsers return it; >= 0, unlike PARSE_*). */
#define PAYLOAD_ETHERNET 0
#define PAYLOAD_IPV4 1
#define PAYLOAD_IPV6 2

/* RFC 2784 section 2.1: C R K S s Recur(3) Flags(5) Ver(3) | Protocol Type(16); optional fields follow. */
struct grehdr {
	__be16 flags_version;
	__be16 protocol;
};

/* ERSPAN type II (8 bytes): Ver(4) VLAN(12) | COS(3) En(2) T(1) Session ID(10) | Reserved(12) Index(20). */
struct erspan2hdr {
	__be16 ver_vlan;
	__be16 cos_en_t_session;
	__be32 reserved_index;
};

/*
 * ERSPAN type III (12 bytes): Ver(4) VLAN(12) | COS(3) BSO(2) T(1) Session ID(10) | Timestamp(32) |
 * SGT(16) | P(1) FT(5) Hw ID(6) D(1) Gra(2) O(1). With O set, an 8-byte platform-specific subheader follows.
 */
struct erspan3hdr {
	__be16 ver_vlan;
	__be16 cos_bso_t_session;
	__be32 timestamp;
	__be16 sgt;
	__u8 p_ft_hwid;
	__u8 hwid_d_gra_o;
};

/* VXLAN-GPE (8 bytes): flags(8) reserved(16) next protocol(8) | VNI(24) reserved(8). */
struct gpehdr {
	__u8 flags;
	__u8 reserved[2];
	__u8 next_protocol;
	__u8 vni[3];
	__u8 reserved2;
};

/* IPv6 hop-by-hop, routing and destination options headers: next header, length in 8-byte units past the first. */
struct ipv6_opt_hdr_start {
	__u8 nexthdr;
	__u8 hdrlen;
};

/* RFC 8200 section 4.5: next header, reserved, offset(13) res(2) M(1), identification. */
struct ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

struct hdr_cursor {
	void *pos;
};

struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

/* RFC 7348 section 5: flags(8) reserved(24) VNI(24) reserved(8). */
struct vxlanhdr {
	__u8 flags;
	__u8 reserved1[3];
	__u8 vni[3];
	__u8 reserved2;
};

/* RFC 8926 section 3.4: ver(2) opt_len(6) | O C rsvd(6) | protocol type(16) | VNI(24) rsvd(8). */
struct genevehdr {
	__u8 ver_optlen;
	__u8 flags;
	__be16 protocol;
	__u8 vni[3];
	__u8 reserved;
};

static __always_inline int proto_is_vlan(__u16 h_proto)
{
	return h_proto == ETH_P_8021Q || h_proto == ETH_P_8021AD;
}

/* Ethernet plus up to VLAN_MAX_DEPTH tags of either TPID in any order; returns the EtherType after them. */
static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end)
{
	struct ethhdr *eth = nh->pos;
	struct vlan_hdr *vlh;
	__u16 h_proto;

	if ((void *)(eth + 1) > data_end)
		return PARSE_TRUNCATED;
	nh->pos = eth + 1;
	h_proto = bpf_ntohs(eth->h_proto);

#pragma unroll
	for (int i = 0; i < VLAN_MAX_DEPTH; i++) {
		if (!proto_is_vlan(h_proto))
			break;
		vlh = nh->pos;
		if ((void *)(vlh + 1) > data_end)
			return PARSE_TRUNCATED;
		h_proto = bpf_ntohs(vlh->h_vlan_encapsulated_proto);
		nh->pos = vlh + 1;
	}
	return h_proto;
}

/* IPv4 with any header length (options skipped); *frag_off gets the MF bit and the offset. */
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end, struct iphdr **iphdr,
				       __u16 *frag_off)
{
	struct iphdr *iph = nh->pos;
	int hdrsize;

	if ((void *)(iph + 1) > data_end)
		return PARSE_TRUNCATED;
	hdrsize = iph->ihl * 4;
	if (hdrsize < (int)sizeof(*iph))
		return PARSE_MALFORMED;
	/* Options: the whole variable-length header must be in the frame. */
	if (nh->pos + hdrsize > data_end)
		return PARSE_TRUNCATED;
	nh->pos += hdrsize;
	*iphdr = iph;
	*frag_off = bpf_ntohs(iph->frag_off) & (IPV4_MF | IPV4_OFFSET);
	return iph->protocol;
}

/* IPv6 fixed header only; the caller decides what an extension header means for it. */
static __always_inline int parse_ip6hdr(struct hdr_cursor *nh, void *data_end, struct ipv6hdr **ip6hdr)
{
	struct ipv6hdr *ip6h = nh->pos;

	if ((void *)(ip6h + 1) > data_end)
		return PARSE_TRUNCATED;
	nh->pos = ip6h + 1;
	*ip6hdr = ip6h;
	return ip6h->nexthdr;
}

/* Extension headers walked by parse_ip6_extensions (the fragment header aside). */
static __always_inline int ipv6_is_walked_extension(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING || nexthdr == IPPROTO_DSTOPTS;
}

/* Extension headers not walked: their packets count as unsupported. */
static __always_inline int ipv6_is_unwalked_extension(__u8 nexthdr)
{
	return nexthdr == IPPROTO_AH || nexthdr == IPPROTO_MH || nexthdr == NEXTHDR_HIP || nexthdr == NEXTHDR_SHIM6;
}

/*
 * IPv6 extension headers after the fixed header: hop-by-hop, routing and destination options are skipped,
 * a fragment header's M flag is ORed into *frag_off (host order); at most IPV6_EXT_MAX headers. Returns the
 * upper-layer protocol, PARSE_FRAGMENT for a non-first fragment, PARSE_UNSUPPORTED or PARSE_TRUNCATED.
 */
static __always_inline int parse_ip6_extensions(struct hdr_cursor *nh, void *data_end, int nexthdr, __u16 *frag_off)
{
#pragma unroll
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		if (ipv6_is_walked_extension(nexthdr)) {
			struct ipv6_opt_hdr_start *opt = nh->pos;

			if ((void *)(opt + 1) > data_end)
				return PARSE_TRUNCATED;
			int size = (opt->hdrlen + 1) * 8;

			if (nh->pos + size > data_end)
				return PARSE_TRUNCATED;
			nexthdr = opt->nexthdr;
			nh->pos += size;
		} else if (nexthdr == IPPROTO_FRAGMENT) {
			struct ipv6_frag_hdr *frag = nh->pos;

			if ((void *)(frag + 1) > data_end)
				return PARSE_TRUNCATED;
			__u16 this_frag_off = bpf_ntohs(frag->frag_off);

			if (this_frag_off & IPV6_FRAG_OFFSET)
				return PARSE_FRAGMENT;
			/* Several fragment headers (odd, but possible): M set in any makes it a first fragment. */
			*frag_off |= this_frag_off;
			nexthdr = frag->nexthdr;
			nh->pos = frag + 1;
		} else {
			break;
		}
	}
	if (ipv6_is_walked_extension(nexthdr) || nexthdr == IPPROTO_FRAGMENT || ipv6_is_unwalked_extension(nexthdr))
		return PARSE_UNSUPPORTED;
	return nexthdr;
}

/* UDP; returns the destination port. */
static __always_inline int parse_udphdr(struct hdr_cursor *nh, void *data_end)
{
	struct udphdr *udph = nh->pos;

	if ((void *)(udph + 1) > data_end)
		return PARSE_TRUNCATED;
	nh->pos = udph + 1;
	return bpf_ntohs(udph->dest);
}

/* VXLAN; returns 0 and the VNI, the cursor left on the inner Ethernet header. */
static __always_inline int parse_vxlanhdr(struct hdr_cursor *nh, void *data_end, __u32 *vni)
{
	struct vxlanhdr *vxh = nh->pos;

	if ((void *)(vxh + 1) > data_end)
		return PARSE_TRUNCATED;
	/* Without the I bit the VNI field means nothing (RFC 7348 section 5). */
	if (!(vxh->flags & VXLAN_FLAG_I))
		return PARSE_MALFORMED;
	*vni = ((__u32)vxh->vni[0] << 16) | ((__u32)vxh->vni[1] << 8) | vxh->vni[2];
	nh->pos = vxh + 1;
	return 0;
}

/* Geneve with its options; returns the PAYLOAD_* kind and the VNI, the cursor left on the payload. */
static __always_inline int parse_genevehdr(struct hdr_cursor *nh, void *data_end, __u32 *vni)
{
	struct genevehdr *gnh = nh->pos;
	int hdrsize, payload;

	if ((void *)(gnh + 1) > data_end)
		return PARSE_TRUNCATED;
	if ((gnh->ver_optlen >> 6) != 0)
		return PARSE_MALFORMED;
	/* Control packets carry no frame for the taps. */
	if (gnh->flags & GENEVE_FLAG_O)
		return PARSE_UNSUPPORTED;
	switch (bpf_ntohs(gnh->protocol)) {
	case ETH_P_TEB: /* Transparent Ethernet Bridging: an Ethernet payload */
		payload = PAYLOAD_ETHERNET;
		break;
	case ETH_P_IP:
		payload = PAYLOAD_IPV4;
		break;
	case ETH_P_IPV6:
		payload = PAYLOAD_IPV6;
		break;
	default:
		return PARSE_UNSUPPORTED;
	}
	/* Header length includes the options: opt_len counts 4-byte words, at most 63 of them. */
	hdrsize = sizeof(*gnh) + (gnh->ver_optlen & 0x3f) * 4;
	if (nh->pos + hdrsize > data_end)
		return PARSE_TRUNCATED;
	*vni = ((__u32)gnh->vni[0] << 16) | ((__u32)gnh->vni[1] << 8) | gnh->vni[2];
	nh->pos += hdrsize;
	return payload;
}

/* VXLAN-GPE; returns the PAYLOAD_* kind and the VNI, the cursor left on the payload. NSH is unsupported. */
static __always_inline int parse_gpehdr(struct hdr_cursor *nh, void *data_end, __u32 *vni)
{
	struct gpehdr *gpe = nh->pos;
	int payload;

	if ((void *)(gpe + 1) > data_end)
		return PARSE_TRUNCATED;
	if ((gpe->flags & GPE_FLAG_VER) || !(gpe->flags & GPE_FLAG_I) || !(gpe->flags & GPE_FLAG_P))
		return PARSE_MALFORMED;
	if (gpe->flags & GPE_FLAG_O)
		return PARSE_UNSUPPORTED;
	switch (gpe->next_protocol) {
	case GPE_NP_ETHERNET:
		payload = PAYLOAD_ETHERNET;
		break;
	case GPE_NP_IPV4:
		payload = PAYLOAD_IPV4;
		break;
	case GPE_NP_IPV6:
		payload = PAYLOAD_IPV6;
		break;
	default:
		return PARSE_UNSUPPORTED;
	}
	*vni = ((__u32)gpe->vni[0] << 16) | ((__u32)gpe->vni[1] << 8) | gpe->vni[2];
	nh->pos = gpe + 1;
	return payload;
}

/*
 * GRE's fixed part; returns its protocol type and sets *flags (network byte order, as on the wire), or
 * PARSE_TRUNCATED. A version other than 0 (PPTP's enhanced GRE is 1) returns 0, which no tunnel type uses: not
 * a tunnel.
 */
static __always_inline int parse_grehdr(struct hdr_cursor *nh, void *data_end, __be16 *flags)
{
	struct grehdr *gre = nh->pos;

	if ((void *)(gre + 1) > data_end)
		return PARSE_TRUNCATED;
	*flags = gre->flags_version;
	if (*flags & bpf_htons(GRE_VERSION))
		return 0;
	nh->pos = gre + 1;
	return bpf_ntohs(gre->protocol);
}

/*
 * GRE's optional fields (checksum + reserved1, key, sequence number: 4 bytes each, each there when its bit is
 * set); *key gets the key or 0. Their length is computed, not branched on: one cursor state for the verifier
 * instead of one per combination of bits. `flags` is in network byte order: each bit is tested in place, so
 * the lengths stay 0 or 4 for every verifier.
 */
static __always_inline int parse_gre_options(struct hdr_cursor *nh, void *data_end, __be16 flags, __u32 *key)
{
	__u32 has_c = (flags & bpf_htons(GRE_FLAG_C)) ? 1 : 0, has_k = (flags & bpf_htons(GRE_FLAG_K)) ? 1 : 0;
	__u32 len = (has_c + has_k + ((flags & bpf_htons(GRE_FLAG_S)) ? 1 : 0)) * 4;

	if (flags & bpf_htons(GRE_FLAG_R))
		return PARSE_UNSUPPORTED;
	if (nh->pos + len > data_end)
		return PARSE_TRUNCATED;
	*key = 0;
	if (has_k) {
		__be32 *field = nh->pos + has_c * 4;

		if ((void *)(field + 1) > data_end)
			return PARSE_TRUNCATED;
		*key = bpf_ntohl(*field);
	}
	nh->pos += len;
	return 0;
}

/* ERSPAN type II header; returns 0 and the session id, the cursor left on the mirrored Ethernet frame. */
static __always_inline int parse_erspan2hdr(struct hdr_cursor *nh, void *data_end, __u32 *session)
{
	struct erspan2hdr *ers = nh->pos;

	if ((void *)(ers + 1) > data_end)
		return PARSE_TRUNCATED;
	if ((bpf_ntohs(ers->ver_vlan) >> 12) != ERSPAN_II_VERSION)
		return PARSE_MALFORMED;
	*session = bpf_ntohs(ers->cos_en_t_session) & 0x3ff;
	nh->pos = ers + 1;
	return 0;
}

/* ERSPAN type III header (+ its platform subheader); returns 0 and the session id, cursor on the frame. */
static __always_inline int parse_erspan3hdr(struct hdr_cursor *nh, void *data_end, __u32 *session)
{
	struct erspan3hdr *ers = nh->pos;

	if ((void *)(ers + 1) > data_end)
		return PARSE_TRUNCATED;
	if ((bpf_ntohs(ers->ver_vlan) >> 12) != ERSPAN_III_VERSION)
		return PARSE_MALFORMED;
	/* Frame type 0 is Ethernet; 2 (IP) and the others carry no Ethernet frame. */
	if ((ers->p_ft_hwid >> 2) & 0x1f)
		return PARSE_UNSUPPORTED;
	*session = bpf_ntohs(ers->cos_bso_t_session) & 0x3ff;
	nh->pos = ers + 1;
	if (ers->hwid_d_gra_o & 0x01) {
		if (nh->pos + 8 > data_end)
			return PARSE_TRUNCATED;
		nh->pos += 8;
	}
	return 0;
}

/* First four bytes of TCP, UDP and SCTP: source and destination port. */
struct l4_ports {
	__be16 source;
	__be16 dest;
};

static __always_inline int proto_has_ports(__u8 protocol)
{
	return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_SCTP;
}

#endif /* XDP_DECAP_PARSING_H */
