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

static __always_inline int ipv6_is_extension(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING || nexthdr == IPPROTO_DSTOPTS ||
	       nexthdr == IPPROTO_AH || nexthdr == IPPROTO_MH || nexthdr == NEXTHDR_HIP || nexthdr == NEXTHDR_SHIM6;
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

/* Geneve with its options; returns 0 and the VNI, the cursor left on the inner Ethernet header. */
static __always_inline int parse_genevehdr(struct hdr_cursor *nh, void *data_end, __u32 *vni)
{
	struct genevehdr *gnh = nh->pos;
	int hdrsize;

	if ((void *)(gnh + 1) > data_end)
		return PARSE_TRUNCATED;
	if ((gnh->ver_optlen >> 6) != 0)
		return PARSE_MALFORMED;
	/* Control packets and non-Ethernet payloads carry no frame for the taps. */
	if (gnh->flags & GENEVE_FLAG_O)
		return PARSE_UNSUPPORTED;
	if (bpf_ntohs(gnh->protocol) != ETH_P_TEB) /* Transparent Ethernet Bridging: an Ethernet payload */
		return PARSE_UNSUPPORTED;
	/* Header length includes the options: opt_len counts 4-byte words, at most 63 of them. */
	hdrsize = sizeof(*gnh) + (gnh->ver_optlen & 0x3f) * 4;
	if (nh->pos + hdrsize > data_end)
		return PARSE_TRUNCATED;
	*vni = ((__u32)gnh->vni[0] << 16) | ((__u32)gnh->vni[1] << 8) | gnh->vni[2];
	nh->pos += hdrsize;
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
