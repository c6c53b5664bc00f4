/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Parsers of the generic headers (Ethernet and VLAN tags, IPv4, IPv6 and its extension headers, UDP, L4 ports). */
#ifndef XDP_DECAP_PARSE_L2L4_H
#define XDP_DECAP_PARSE_L2L4_H

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
#define PARSE_NOT_TUNNEL -5 /* a tunnel type no parser knows (the maps hold only known ones) */

/* Up to this many 802.1Q / 802.1ad tags in a row (QinQ is 2); the loop is unrolled for the verifier. */
#ifndef VLAN_MAX_DEPTH
#define VLAN_MAX_DEPTH 2
#endif

/* IPv6 extension headers the UAPI headers do not name (IANA protocol numbers; RFC 7401, RFC 5533). */
#define NEXTHDR_HIP 139
#define NEXTHDR_SHIM6 140

#define IPV4_MF 0x2000
#define IPV4_OFFSET 0x1FFF

/* At most this many IPv6 extension headers are walked (the fragment header included); more is unsupported. */
#ifndef IPV6_EXT_MAX
#define IPV6_EXT_MAX 4
#endif
#define IPV6_FRAG_OFFSET 0xFFF8 /* of frag_off in host order */
#define IPV6_FRAG_M 0x0001

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
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end, struct iphdr **iphdr, __u16 *frag_off)
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

/* First four bytes of TCP, UDP and SCTP: source and destination port. */
struct l4_ports {
	__be16 source;
	__be16 dest;
};

static __always_inline int proto_has_ports(__u8 protocol)
{
	return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_SCTP;
}

#endif /* XDP_DECAP_PARSE_L2L4_H */
